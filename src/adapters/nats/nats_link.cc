#include "adapters/nats/nats_link.h"

#include <nats/nats.h>

namespace pahlawan {

namespace {
void connected(natsConnection*, void*) {}
}  // namespace

Status nats_error(const std::string& what, int nats_status) {
  return {ErrorCode::kUnavailable, what + ": " + natsStatus_GetText(static_cast<natsStatus>(nats_status))};
}

Result<__natsConnection*> nats_connect(const JetStreamOptions& options) {
  natsOptions* opts = nullptr;
  natsConnection* conn = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, options.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever: the outbox waits meanwhile
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, options.reconnect_wait.count());
  // Start even while NATS is down: the connection is then made in the background. The callback
  // matters: without one, cnats retries inside natsConnection_Connect, which then blocks until NATS
  // is up (forever, with no reconnect limit).
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, &connected, nullptr);
  if (s == NATS_OK) {
    s = natsConnection_Connect(&conn, opts);
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return nats_error("cannot set up the NATS connection to " + options.url, s);
  return conn;
}

Status nats_ensure_stream(__natsConnection* conn, __jsCtx* js, const JetStreamOptions& options) {
  if (natsConnection_Status(conn) != NATS_CONN_STATUS_CONNECTED) {
    return {ErrorCode::kUnavailable, "NATS is not connected"};
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const std::string subjects = "pp.>";
  const char* subject_list[] = {subjects.c_str()};
  cfg.Name = options.stream.c_str();
  cfg.Subjects = subject_list;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(options.duplicate_window).count();
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) s = NATS_OK;  // made before, by us or another process
  if (info) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) return nats_error("cannot create the JetStream stream " + options.stream, s);
  return Status::ok();
}

}  // namespace pahlawan

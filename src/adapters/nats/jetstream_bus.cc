#include "adapters/nats/jetstream_bus.h"

#include <nats/nats.h>

#include "app/json_render.h"

namespace pahlawan {

namespace {
Status nats_error(const std::string& what, natsStatus s) {
  return {ErrorCode::kUnavailable, what + ": " + natsStatus_GetText(s)};
}
}  // namespace

Result<std::unique_ptr<JetStreamBus>> JetStreamBus::connect(JetStreamOptions options, MetricsRegistry* metrics) {
  std::unique_ptr<JetStreamBus> bus(new JetStreamBus(std::move(options)));
  if (metrics) {
    bus->published_ = &metrics->counter("bus_published_total", "Events JetStream acknowledged");
    bus->duplicates_ =
        &metrics->counter("bus_duplicates_total", "Events JetStream already had (a re-publish it de-duplicated)");
    bus->failures_ = &metrics->counter("bus_publish_failures_total", "Batches JetStream did not confirm in time");
  }
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, bus->options_.url.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever: the outbox waits meanwhile
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, bus->options_.reconnect_wait.count());
  // Start even while NATS is down: the connection is then made in the background.
  if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(opts, true, nullptr, nullptr);
  if (s == NATS_OK) {
    s = natsConnection_Connect(&bus->conn_, opts);
    if (s == NATS_NOT_YET_CONNECTED) s = NATS_OK;
  }
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return nats_error("cannot set up the NATS connection to " + bus->options_.url, s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = &JetStreamBus::on_ack;
  jo.PublishAsync.AckHandlerClosure = bus.get();
  jo.PublishAsync.MaxPending = 65536;
  s = natsConnection_JetStream(&bus->js_, bus->conn_, &jo);
  if (s != NATS_OK) return nats_error("cannot open JetStream", s);
  return bus;
}

JetStreamBus::~JetStreamBus() {
  if (js_) {
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 1000;
    (void)js_PublishAsyncComplete(js_, &o);
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
    jsCtx_Destroy(js_);
  }
  if (conn_) natsConnection_Destroy(conn_);
}

// On cnats' thread, once per published message: success, duplicate or refusal.
void JetStreamBus::on_ack(__jsCtx*, __natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
  auto* bus = static_cast<JetStreamBus*>(closure);
  if (err || !ack) {
    bus->refused_.fetch_add(1);
  } else if (ack->Duplicate && bus->duplicates_) {
    bus->duplicates_->inc();
  }
  natsMsg_Destroy(msg);
}

// The stream is made once NATS is reachable; an existing one (another replica made it) is fine.
Status JetStreamBus::ensure_stream() {
  if (stream_ready_) return Status::ok();
  if (natsConnection_Status(conn_) != NATS_CONN_STATUS_CONNECTED) {
    return {ErrorCode::kUnavailable, "NATS is not connected"};
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const std::string subjects = "pp.>";
  const char* subject_list[] = {subjects.c_str()};
  cfg.Name = options_.stream.c_str();
  cfg.Subjects = subject_list;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.duplicate_window).count();
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js_, &cfg, nullptr, &jerr);
  if (s != NATS_OK && jerr == JSStreamNameExistErr) s = NATS_OK;  // made before, by us or another replica
  if (info) jsStreamInfo_Destroy(info);
  if (s != NATS_OK) return nats_error("cannot create the JetStream stream " + options_.stream, s);
  stream_ready_ = true;
  return Status::ok();
}

void JetStreamBus::publish(const Event& event) {
  if (batch_failed_ || !ensure_stream()) {
    batch_failed_ = true;
    return;
  }
  // pp.<type>.<region>: a consumer can follow one region (pp.*.*.<region>) or one type. Admin
  // events, and events stored before they carried a region, have none and go to "global".
  const std::string subject = "pp." + event.type + "." + (event.region.empty() ? "global" : event.region);
  const std::string body = render_event(event);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK && !event.traceparent.empty()) s = natsMsgHeader_Set(msg, "traceparent", event.traceparent.c_str());
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MsgId = event.id.c_str();  // Nats-Msg-Id: JetStream's de-duplication key
  if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, &o);
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);  // still ours when the publish was refused
    batch_failed_ = true;
    return;
  }
  batch_.push_back(event);
}

Status JetStreamBus::flush() {
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MaxWait = options_.ack_wait.count();
  natsStatus s = js_PublishAsyncComplete(js_, &o);
  if (s != NATS_OK) {
    // What is still unacknowledged is given up: the relay publishes the batch again.
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  const bool failed = batch_failed_ || s != NATS_OK || refused_.exchange(0) > 0;
  batch_failed_ = false;
  if (failed) {
    batch_.clear();
    stream_ready_ = stream_ready_ && natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
    if (failures_) failures_->inc();
    return {ErrorCode::kUnavailable, "JetStream did not confirm every event of the batch"};
  }
  if (published_) published_->inc(static_cast<double>(batch_.size()));
  for (auto* sub : subscribers_) {
    for (const auto& e : batch_) sub->on_event(e);
    sub->flush();
  }
  batch_.clear();
  return Status::ok();
}

}  // namespace pahlawan

// What the JetStream bus (publishing) and the JetStream consumers (reading) share: a connection that
// is made in the background while NATS is down and reconnects forever, the stream they both use
// (created by whichever gets there first), and the message headers an event travels with.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"
#include "engine/tracer.h"

struct __natsConnection;
struct __jsCtx;

namespace pahlawan {

struct JetStreamOptions {
  std::string url;  // nats://host:port
  std::string stream = "PAHLAWAN";
  std::chrono::milliseconds ack_wait{5000};    // the bus's flush() waits this long for the batch's acks
  std::chrono::seconds duplicate_window{120};  // JetStream drops a repeated Nats-Msg-Id within this
  std::chrono::milliseconds reconnect_wait{250};
  const Tracer* tracer = nullptr;  // spans for publishing and receiving; null: contexts pass unchanged
};

// Headers beside the event's JSON body (the id is Nats-Msg-Id, JetStream's de-duplication key).
inline constexpr const char* kSeqHeader = "Pahlawan-Seq";
inline constexpr const char* kRecipientHeader = "Pahlawan-Recipient";

Status nats_error(const std::string& what, int nats_status);

// A connection to options.url; succeeds while NATS is down too (the connection is then made in the
// background, and remade after every loss).
Result<__natsConnection*> nats_connect(const JetStreamOptions& options);

// The stream for subjects pp.>, file storage, de-duplicating by Nats-Msg-Id within the window; an
// existing one is fine (another process made it). Unavailable while NATS is not connected.
Status nats_ensure_stream(__natsConnection* conn, __jsCtx* js, const JetStreamOptions& options);

}  // namespace pahlawan

#include "adapters/nats/jetstream_bus.h"

#include <nats/nats.h>

#include "app/json_render.h"

namespace pahlawan {

Result<std::unique_ptr<JetStreamBus>> JetStreamBus::connect(JetStreamOptions options, MetricsRegistry* metrics) {
  std::unique_ptr<JetStreamBus> bus(new JetStreamBus(std::move(options)));
  if (metrics) {
    bus->published_ = &metrics->counter("bus_published_total", "Events JetStream acknowledged");
    bus->duplicates_ =
        &metrics->counter("bus_duplicates_total", "Events JetStream already had (a re-publish it de-duplicated)");
    bus->failures_ = &metrics->counter("bus_publish_failures_total", "Batches JetStream did not confirm in time");
  }
  auto conn = nats_connect(bus->options_);
  if (!conn) return conn.status();
  bus->conn_ = *conn;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = &JetStreamBus::on_ack;
  jo.PublishAsync.AckHandlerClosure = bus.get();
  jo.PublishAsync.MaxPending = 65536;
  natsStatus s = natsConnection_JetStream(&bus->js_, bus->conn_, &jo);
  if (s != NATS_OK) return nats_error("cannot open JetStream", s);
  return bus;
}

JetStreamBus::~JetStreamBus() {
  if (js_) {
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 1000;
    // Only a timeout means publishes are pending; with none ever published, cnats 3.4 has no pending
    // map and js_PublishAsyncGetPendingList dereferences null.
    if (js_PublishAsyncComplete(js_, &o) != NATS_OK) {
      natsMsgList pending;
      if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
    }
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
  if (Status st = nats_ensure_stream(conn_, js_, options_); !st) return st;
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
  // An event that came from a traced request is published as a span of its trace, and carries that
  // span's context (in the header and the body): whoever takes it from the bus continues there.
  Event sent = event;
  Span span;
  if (options_.tracer && !event.traceparent.empty()) {
    span = options_.tracer->start("publish " + event.type, SpanKind::kProducer, event.traceparent);
    span.set("messaging.system", "nats");
    span.set("messaging.destination.name", subject);
    span.set("messaging.message.id", event.id);
    sent.traceparent = span.traceparent();
  }
  const std::string body = render_event(sent);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK && !sent.traceparent.empty()) s = natsMsgHeader_Set(msg, "traceparent", sent.traceparent.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kSeqHeader, std::to_string(event.seq).c_str());
  if (s == NATS_OK && !event.recipient.empty()) s = natsMsgHeader_Set(msg, kRecipientHeader, event.recipient.c_str());
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MsgId = event.id.c_str();  // Nats-Msg-Id: JetStream's de-duplication key
  if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, &o);
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);  // still ours when the publish was refused
    batch_failed_ = true;
    span.fail("not sent");
    return;
  }
  batch_.push_back(event);
  spans_.push_back(std::move(span));
}

bool JetStreamBus::connected() const {
  return natsConnection_Status(conn_) == NATS_CONN_STATUS_CONNECTED;
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
  for (Span& span : spans_) {
    if (failed) span.fail("JetStream did not confirm the batch");
    span.end();
  }
  spans_.clear();
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

// JetStreamBus: the EventBus that hands committed outbox events to NATS JetStream, the production
// bus. Each event goes to the stream (PAHLAWAN by default) on subject `pp.<type>.<region>` — e.g.
// `pp.surplus.offered.69c` — as its JSON (the journal's rendering), with `Nats-Msg-Id` = the event id,
// the request's `traceparent`, its outbox seq and (offers) its recipient as headers.
//
// Publishing is asynchronous within a batch; flush() waits for JetStream's acknowledgement of every
// event of the batch and fails if any is missing (NATS down, a timeout, a refusal), so the relay keeps
// its position and publishes the batch again later. A second publish of an event within the stream's
// de-duplication window is absorbed by JetStream (counted as a duplicate); after the window it is a
// second message, so consumers stay idempotent by event id. nats-server 2.9 acknowledges without
// fsync: the outbox in the store remains the system of record, and a relay with its own cursor
// (consumer "nats") can publish from it again after a bus crash.
//
// Local subscribers (subscribe()) get each event after JetStream confirmed its batch.
// Reconnects by itself; the stream is created (or found) once connected.
// Thread-safety: publish/flush from the relay thread only, like every EventBus.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adapters/nats/nats_link.h"
#include "common/metrics.h"
#include "ports/event_bus.h"

struct __natsConnection;
struct __jsCtx;
struct jsPubAck;
struct jsPubAckErr;
struct __natsMsg;

namespace pahlawan {

class JetStreamBus final : public EventBus {
 public:
  // Succeeds while NATS is down too (it keeps trying to connect); fails only on bad options.
  static Result<std::unique_ptr<JetStreamBus>> connect(JetStreamOptions options, MetricsRegistry* metrics);
  ~JetStreamBus() override;

  void subscribe(EventSubscriber& subscriber) override { subscribers_.push_back(&subscriber); }
  void publish(const Event& event) override;
  Status flush() override;
  // The connection is up now (it comes up in the background after connect()).
  bool connected() const;

 private:
  explicit JetStreamBus(JetStreamOptions options) : options_(std::move(options)) {}
  Status ensure_stream();
  static void on_ack(__jsCtx* js, __natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure);

  JetStreamOptions options_;
  __natsConnection* conn_ = nullptr;
  __jsCtx* js_ = nullptr;
  bool stream_ready_ = false;  // relay thread only
  bool batch_failed_ = false;  // relay thread only: a publish of this batch was not even sent
  std::vector<Event> batch_;   // relay thread only: for the local subscribers, once confirmed
  std::vector<Span> spans_;    // relay thread only: the batch's publishes, ended when it is confirmed
  std::vector<EventSubscriber*> subscribers_;
  std::atomic<int64_t> refused_{0};  // acks that came back as errors (cnats' thread)
  Counter* published_ = nullptr;
  Counter* duplicates_ = nullptr;
  Counter* failures_ = nullptr;
};

}  // namespace pahlawan

// EventBus: where committed outbox events go once the relay has read them.
//
// Contract: publish() hands one event to every subscriber, in outbox order, and returns when each has
// taken it. Delivery is at-least-once (after a crash the relay resumes from its last saved cursor), so
// subscribers must be idempotent by event id. Called from the relay thread only.
// flush() ends a batch; a bus that forwards events elsewhere (a broker) returns an error when it
// cannot confirm every event of the batch was taken, and the relay then publishes the batch again
// later (the bus de-duplicates by event id, or its consumers do).
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "domain/event.h"

namespace pahlawan {

class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  virtual void on_event(const Event& event) = 0;
  // End of a batch: make what on_event did visible/durable before the relay saves its position.
  virtual void flush() {}
};

// A subscriber whose effect of an event ends later than the call (a webhook's delivery and its
// retries): it calls `done` once that effect is over — from any thread, at most once; never, if the
// process stops first. A bus consumer acknowledges the event only then, so an event whose effect was
// cut short by a crash is handed over again.
class DeferredEventSubscriber {
 public:
  virtual ~DeferredEventSubscriber() = default;
  virtual void on_event(const Event& event, std::function<void()> done) = 0;
};

class EventBus {
 public:
  virtual ~EventBus() = default;
  virtual void subscribe(EventSubscriber& subscriber) = 0;
  virtual void publish(const Event& event) = 0;
  // Called after each batch, before the relay records how far it got.
  virtual Status flush() = 0;
};

}  // namespace pahlawan

// InProcessBus: the embedded EventBus. publish() calls every subscriber in turn on the caller's
// (the relay's) thread. Subscribers are registered at wiring time, before the relay starts.
#pragma once

#include <vector>

#include "ports/event_bus.h"

namespace pahlawan {

class InProcessBus final : public EventBus {
 public:
  void subscribe(EventSubscriber& subscriber) override { subscribers_.push_back(&subscriber); }
  void publish(const Event& event) override {
    for (auto* s : subscribers_) s->on_event(event);
  }
  Status flush() override {
    for (auto* s : subscribers_) s->flush();
    return Status::ok();
  }

 private:
  std::vector<EventSubscriber*> subscribers_;
};

}  // namespace pahlawan

// JsonEventFactory: outbox events whose payload is the surplus as the API renders it. Thread-safe.
#pragma once

#include "common/clock.h"
#include "common/ids.h"
#include "ports/event_factory.h"

namespace pahlawan {

class JsonEventFactory final : public EventFactory {
 public:
  JsonEventFactory(IdGenerator& ids, const Clock& clock) : ids_(ids), clock_(clock) {}
  Event make(const char* type, const Surplus& after, const std::string& traceparent) override;
  std::string payload(const Surplus& s) override;

 private:
  IdGenerator& ids_;
  const Clock& clock_;
};

}  // namespace pahlawan

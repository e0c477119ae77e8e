// EventFactory: turns a change of a surplus into its outbox event (id, time, payload). The engine
// decides *that* an event happens; the application decides what it carries (the payload is the
// surplus as the API renders it). Thread-safe.
#pragma once

#include <string>

#include "domain/event.h"
#include "domain/surplus.h"

namespace pahlawan {

class EventFactory {
 public:
  virtual ~EventFactory() = default;
  virtual Event make(const char* type, const Surplus& after, const std::string& traceparent) = 0;
  // The payload an event about this item carries (the item as the API renders it).
  virtual std::string payload(const Surplus& s) = 0;
};

}  // namespace pahlawan

// MetricsSubscriber: the platform's outcome metrics, counted from committed events so that they say
// what really happened: surplus_claim_latency_seconds (post → claim), food_waste_prevented_tons_total
// (claimed kg / 1000, counted at claim) and a count per event type. Idempotent: events at or below the
// last seq it saw are ignored. Called on the relay thread.
#pragma once

#include <map>
#include <string>

#include "common/metrics.h"
#include "ports/event_bus.h"

namespace pahlawan {

class MetricsSubscriber final : public EventSubscriber {
 public:
  explicit MetricsSubscriber(MetricsRegistry& registry);
  void on_event(const Event& event) override;

 private:
  MetricsRegistry& registry_;
  Histogram& claim_latency_;
  Counter& tons_prevented_;
  int64_t grams_prevented_ = 0;  // the exact total behind tons_prevented_ (relay thread only)
  int64_t last_seq_ = 0;
};

}  // namespace pahlawan

// GuardedRouteEstimator: a primary RouteEstimator (the road router) behind a CircuitBreaker, with a
// fallback (haversine) that answers whenever the primary may not be asked or fails — so the matcher
// always gets a ranking, and a dead router costs one fast fallback instead of a timeout per match.
//
// Each primary call is timed with the injected Clock, from the call to its answer, and reported to the
// breaker (a slow success still returns the primary's answer, but counts against it). A primary answer
// with the wrong number of entries breaks the port's contract and is treated as a failure. The answer
// is the fallback's whenever the primary was skipped or failed; it fails only if the fallback does.
// A refused call is answered by the fallback before estimate() returns: an open breaker adds no wait.
//
// Ownership: borrows all four collaborators; they must outlive it and every call in flight (stop the
// primary first). Thread-safety: safe from any thread if the primary and fallback are (the breaker
// is, and the counters are atomic).
#pragma once

#include <atomic>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "engine/circuit_breaker.h"
#include "ports/route_estimator.h"

namespace pahlawan {

class GuardedRouteEstimator final : public RouteEstimator {
 public:
  // With `metrics`, counts rankings in routing_rankings_total{source="router"|"fallback"}.
  GuardedRouteEstimator(RouteEstimator& primary, RouteEstimator& fallback, CircuitBreaker& breaker, const Clock& clock,
                        MetricsRegistry* metrics = nullptr);

  void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) override;
  const char* name() const override { return "guarded"; }

  // Calls answered by the fallback (breaker refused, or primary failed), for tests and metrics.
  int64_t fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }
  // Calls answered by the primary.
  int64_t primary_answers() const { return primary_answers_.load(std::memory_order_relaxed); }
  const CircuitBreaker& breaker() const { return breaker_; }

 private:
  void from_fallback(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done);

  RouteEstimator& primary_;
  RouteEstimator& fallback_;
  CircuitBreaker& breaker_;
  const Clock& clock_;
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<int64_t> primary_answers_{0};
  Counter* primary_counter_ = nullptr;
  Counter* fallback_counter_ = nullptr;
};

}  // namespace pahlawan

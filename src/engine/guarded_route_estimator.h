// GuardedRouteEstimator: a primary RouteEstimator (the road router) behind a CircuitBreaker, with a
// fallback (haversine) that answers whenever the primary may not be asked or fails — so the matcher
// always gets a ranking, and a dead router costs one fast fallback instead of a timeout per match.
//
// Each primary call is timed with the injected Clock and reported to the breaker (a slow success
// still returns the primary's answer, but counts against it). A primary answer with the wrong number
// of entries breaks the port's contract and is treated as a failure. The result is the fallback's
// whenever the primary was skipped or failed; it fails only if the fallback does.
//
// Ownership: borrows all four collaborators; they must outlive it. Thread-safety: safe from any thread
// if the primary and fallback are (the breaker is, and fallbacks() is atomic).
#pragma once

#include <atomic>
#include <vector>

#include "common/clock.h"
#include "engine/circuit_breaker.h"
#include "ports/route_estimator.h"

namespace pahlawan {

class GuardedRouteEstimator final : public RouteEstimator {
 public:
  GuardedRouteEstimator(RouteEstimator& primary, RouteEstimator& fallback, CircuitBreaker& breaker, const Clock& clock)
      : primary_(primary), fallback_(fallback), breaker_(breaker), clock_(clock) {}

  Result<std::vector<RouteEstimate>> estimate(const GeoPoint& origin,
                                              const std::vector<GeoPoint>& destinations) override;
  const char* name() const override { return "guarded"; }

  // Calls answered by the fallback (breaker refused, or primary failed), for tests and metrics.
  int fallbacks() const { return fallbacks_.load(std::memory_order_relaxed); }

 private:
  Result<std::vector<RouteEstimate>> from_fallback(const GeoPoint& origin, const std::vector<GeoPoint>& destinations);

  RouteEstimator& primary_;
  RouteEstimator& fallback_;
  CircuitBreaker& breaker_;
  const Clock& clock_;
  std::atomic<int> fallbacks_{0};
};

}  // namespace pahlawan

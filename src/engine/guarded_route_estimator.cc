#include "engine/guarded_route_estimator.h"

namespace pahlawan {

Result<std::vector<RouteEstimate>> GuardedRouteEstimator::estimate(const GeoPoint& origin,
                                                                   const std::vector<GeoPoint>& destinations) {
  if (!breaker_.allow()) return from_fallback(origin, destinations);

  const TimePoint started = clock_.now();
  auto answer = primary_.estimate(origin, destinations);
  const Millis took = clock_.now() - started;

  // Callers index the answer by destination, so a short or long one is as bad as none.
  if (answer && answer->size() == destinations.size()) {
    breaker_.record_success(took);
    return answer;
  }
  breaker_.record_failure();
  return from_fallback(origin, destinations);
}

Result<std::vector<RouteEstimate>> GuardedRouteEstimator::from_fallback(const GeoPoint& origin,
                                                                        const std::vector<GeoPoint>& destinations) {
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  return fallback_.estimate(origin, destinations);
}

}  // namespace pahlawan

#include "engine/guarded_route_estimator.h"

namespace pahlawan {

GuardedRouteEstimator::GuardedRouteEstimator(RouteEstimator& primary, RouteEstimator& fallback, CircuitBreaker& breaker,
                                             const Clock& clock, MetricsRegistry* metrics)
    : primary_(primary), fallback_(fallback), breaker_(breaker), clock_(clock) {
  if (metrics) {
    const char* help = "Candidate rankings for matches, by who answered: the road router or the great-circle fallback";
    primary_counter_ = &metrics->counter("routing_rankings_total", help, "source=\"router\"");
    fallback_counter_ = &metrics->counter("routing_rankings_total", help, "source=\"fallback\"");
  }
}

void GuardedRouteEstimator::estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations,
                                     RouteCallback done) {
  if (!breaker_.allow()) return from_fallback(origin, destinations, std::move(done));

  const TimePoint started = clock_.now();
  primary_.estimate(origin, destinations,
                    [this, started, origin, destinations, done = std::move(done)](RouteAnswer answer) mutable {
                      const Millis took = std::chrono::duration_cast<Millis>(clock_.now() - started);
                      // Callers index the answer by destination, so a short or long one is as bad as none.
                      if (answer && answer->size() == destinations.size()) {
                        breaker_.record_success(took);
                        primary_answers_.fetch_add(1, std::memory_order_relaxed);
                        if (primary_counter_) primary_counter_->inc();
                        return done(std::move(answer));
                      }
                      breaker_.record_failure();
                      from_fallback(origin, destinations, std::move(done));
                    });
}

void GuardedRouteEstimator::from_fallback(const GeoPoint& origin, const std::vector<GeoPoint>& destinations,
                                          RouteCallback done) {
  fallbacks_.fetch_add(1, std::memory_order_relaxed);
  if (fallback_counter_) fallback_counter_->inc();
  fallback_.estimate(origin, destinations, std::move(done));
}

}  // namespace pahlawan

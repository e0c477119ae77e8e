// HaversineRouteEstimator: travel estimates without a road network — great-circle distance at a fixed
// speed. It is the fallback behind a real router: cruder (it ignores roads, rivers and traffic), but it
// needs nothing, so the matcher can always rank candidates. Every destination is reachable.
//
// Thread-safety: immutable after construction, safe from any thread. Never fails.
#pragma once

#include <vector>

#include "ports/route_estimator.h"

namespace pahlawan {

class HaversineRouteEstimator final : public RouteEstimator {
 public:
  // 25 km/h: a typical door-to-door average for urban driving, stops and traffic included.
  static constexpr double kUrbanDrivingMetersPerSecond = 25000.0 / 3600.0;

  // REQUIRES: meters_per_second > 0.
  explicit HaversineRouteEstimator(double meters_per_second = kUrbanDrivingMetersPerSecond)
      : meters_per_second_(meters_per_second) {}

  // Answers before returning.
  void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) override {
    done(estimate_now(origin, destinations));
  }
  std::vector<RouteEstimate> estimate_now(const GeoPoint& origin, const std::vector<GeoPoint>& destinations) const;
  const char* name() const override { return "haversine"; }

 private:
  const double meters_per_second_;
};

}  // namespace pahlawan

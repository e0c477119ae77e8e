#include "engine/haversine_route_estimator.h"

#include "domain/geo.h"

namespace pahlawan {

std::vector<RouteEstimate> HaversineRouteEstimator::estimate_now(const GeoPoint& origin,
                                                                 const std::vector<GeoPoint>& destinations) const {
  std::vector<RouteEstimate> out;
  out.reserve(destinations.size());
  for (const GeoPoint& d : destinations) {
    const double meters = haversine_m(origin.lat, origin.lon, d.lat, d.lon);
    out.push_back(RouteEstimate{meters / meters_per_second_, meters});
  }
  return out;
}

}  // namespace pahlawan

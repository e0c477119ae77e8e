// RouteEstimator: how long it takes to travel from one place to many others — the matcher ranks
// candidate NGOs for a surplus by it. One origin against many destinations per call, the shape of
// OSRM's table service, so a real router answers a whole ranking in one request.
//
// Contract: a successful answer has exactly destinations.size() entries, in the same order; a
// destination that cannot be reached is +infinity seconds (kUnreachableSeconds), not an error. A
// failure of the whole call (timeout, malformed answer, router down) is a Status with kUnavailable.
// Implementations must be safe to call from any thread; a networked one may block up to its own timeout.
#pragma once

#include <limits>
#include <vector>

#include "common/status.h"

namespace pahlawan {

struct GeoPoint {
  double lat = 0, lon = 0;
};

struct RouteEstimate {
  double seconds = 0;
  double meters = 0;
};

inline constexpr double kUnreachableSeconds = std::numeric_limits<double>::infinity();

class RouteEstimator {
 public:
  virtual ~RouteEstimator() = default;
  virtual Result<std::vector<RouteEstimate>> estimate(const GeoPoint& origin,
                                                      const std::vector<GeoPoint>& destinations) = 0;
  // For logs and metric labels ("osrm", "haversine"); a static string.
  virtual const char* name() const = 0;
};

}  // namespace pahlawan

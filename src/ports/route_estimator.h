// RouteEstimator: how long it takes to travel from one place to many others — the matcher ranks
// candidate NGOs for a surplus by it. One origin against many destinations per call, the shape of
// OSRM's table service, so a real router answers a whole ranking in one request.
//
// Contract: a successful answer has exactly destinations.size() entries, in the same order; a
// destination that cannot be reached is +infinity seconds (kUnreachableSeconds), not an error. A
// failure of the whole call (timeout, malformed answer, router down) is a Status with kUnavailable.
//
// The call is asynchronous because the caller is a shard actor on a shared worker thread, which must
// never wait on the network: `done` is called exactly once — before estimate() returns (estimators
// that compute locally) or later on the estimator's own thread (a networked one, which also bounds
// the wait by its own deadline). `done` must be cheap: hand the answer over, don't work in it.
// Implementations must be safe to call from any thread.
#pragma once

#include <limits>
#include <vector>

#include "common/status.h"
#include "common/unique_function.h"

namespace pahlawan {

struct GeoPoint {
  double lat = 0, lon = 0;
};

struct RouteEstimate {
  double seconds = 0;
  double meters = 0;
};

inline constexpr double kUnreachableSeconds = std::numeric_limits<double>::infinity();

using RouteAnswer = Result<std::vector<RouteEstimate>>;
using RouteCallback = UniqueFunction<void(RouteAnswer)>;

class RouteEstimator {
 public:
  virtual ~RouteEstimator() = default;
  virtual void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) = 0;
  // For logs and metric labels ("osrm", "haversine"); a static string.
  virtual const char* name() const = 0;
};

}  // namespace pahlawan

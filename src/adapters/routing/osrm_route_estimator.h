// OsrmRouteEstimator: travel times from an OSRM server's table service — one HTTP request ranks every
// candidate of one match (see osrm_table.h for the wire format).
//
// The calls go through an UpstreamClient (net/upstream_client.h): asynchronous on a thread of its
// own, a deadline per call covering everything, calls beyond max_in_flight refused at once, kept-alive
// connections reused, and a call that failed on a pooled connection (the router may have closed it
// while idle) sent once more on a fresh one — a table request is a GET, safe to repeat. Any answer
// but 200 is a failure of the call.
//
// Lifetime: stop() (or the destructor) answers every call still in flight with kUnavailable and joins
// the thread; calls made after stop() are answered kUnavailable at once. Whoever receives answers
// must outlive stop(). Thread-safety: estimate() and stop() from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/clock.h"
#include "net/upstream_client.h"
#include "ports/route_estimator.h"

namespace pahlawan {

struct OsrmOptions {
  std::string url;  // http://host[:port][/prefix]
  std::string profile = "driving";
  Millis timeout{1000};
  size_t max_in_flight = 512;
  size_t max_idle_connections = 32;
};

class OsrmRouteEstimator final : public RouteEstimator {
 public:
  // Fails (kInvalidRequest) on a URL that is not plain http://host[:port][/prefix].
  static Result<std::unique_ptr<OsrmRouteEstimator>> create(OsrmOptions options);

  void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) override;
  const char* name() const override { return "osrm"; }
  void stop() { client_.stop(); }

  // Calls made and not yet answered.
  int64_t in_flight() const { return client_.in_flight(); }

 private:
  OsrmRouteEstimator(OsrmOptions options, std::string host, std::string port, std::string prefix);

  const OsrmOptions options_;
  const std::string host_, port_, prefix_;
  UpstreamClient client_;
};

}  // namespace pahlawan

#include "adapters/routing/osrm_route_estimator.h"

#include <boost/url/parse.hpp>

#include "adapters/routing/osrm_table.h"

namespace pahlawan {

Result<std::unique_ptr<OsrmRouteEstimator>> OsrmRouteEstimator::create(OsrmOptions options) {
  auto url = boost::urls::parse_absolute_uri(options.url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "--routing-url must be http://host[:port][/prefix], got '" + options.url + "'");
  }
  std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string prefix(url->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host(url->host());
  return std::unique_ptr<OsrmRouteEstimator>(
      new OsrmRouteEstimator(std::move(options), std::move(host), std::move(port), std::move(prefix)));
}

namespace {
UpstreamOptions upstream_options(const OsrmOptions& o) {
  UpstreamOptions u;
  u.timeout = o.timeout;
  u.max_in_flight = o.max_in_flight;
  u.max_idle_connections = o.max_idle_connections;
  u.what = "routing";
  return u;
}
}  // namespace

OsrmRouteEstimator::OsrmRouteEstimator(OsrmOptions options, std::string host, std::string port, std::string prefix)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(std::move(port)),
      prefix_(std::move(prefix)),
      client_(upstream_options(options_), "pp-osrm") {}

void OsrmRouteEstimator::estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations,
                                  RouteCallback done) {
  if (destinations.empty()) return done(std::vector<RouteEstimate>{});
  UpstreamRequest req;
  req.target = osrm_table_target(prefix_, options_.profile, origin, destinations);
  client_.send(
      host_, port_, std::move(req),
      [n = destinations.size(), done = std::move(done)](Result<UpstreamResponse> r) mutable {
        if (!r) return done(Status(ErrorCode::kUnavailable, r.status().message()));
        // OSRM answers its own errors (no route table, bad query) as JSON with 4xx; any
        // non-200 is a failure of the call either way.
        if (r->status != 200) {
          return done(Status(ErrorCode::kUnavailable, "routing: router answered HTTP " + std::to_string(r->status)));
        }
        done(parse_osrm_table(r->body, n));
      });
}

}  // namespace pahlawan

// The wire format of OSRM's table service, as pure functions: the request target for one origin
// against many destinations, and the reading of the answer. Kept apart from the HTTP client so that
// every malformed answer can be tested without a socket.
//
// Request:  GET {prefix}/table/v1/{profile}/{lon,lat;lon,lat;...}?sources=0&destinations=1;2;...
//           &annotations=duration,distance   (the origin is coordinate 0)
// Answer:   {"code":"Ok","durations":[[d1,d2,...]],"distances":[[m1,m2,...]]} — one row (the one
//           source); null where OSRM found no route. distances is optional (older OSRM versions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ports/route_estimator.h"

namespace pahlawan {

std::string osrm_table_target(std::string_view prefix, std::string_view profile, const GeoPoint& origin,
                              const std::vector<GeoPoint>& destinations);

// The estimates for `destinations` destinations, or kUnavailable saying what was wrong with the body
// (not JSON, an OSRM error code, a row of the wrong length, a value that is not a number).
RouteAnswer parse_osrm_table(std::string_view body, size_t destinations);

}  // namespace pahlawan

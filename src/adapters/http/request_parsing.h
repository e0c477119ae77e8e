// Reading what a request carries outside its JSON body: the request target (path segments and query
// parameters), the browse and DLQ query parameters, and If-Match. Pure functions, so that the fuzz
// targets (fuzz/) reach them directly; errors are kInvalidRequest naming the parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/surplus_service.h"
#include "common/status.h"

namespace pahlawan {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

struct RequestTarget {
  std::vector<std::string> segments;  // percent-decoded
  QueryParams query;                  // percent-decoded, in order
};

// An origin-form target ("/v1/surplus?lat=..."); anything else is "malformed request target".
Result<RequestTarget> parse_target(std::string_view target);

// GET /v1/surplus: lat and lon required; radius_m, limit, category optional.
Result<BrowseRequest> parse_browse_query(const QueryParams& query);

struct DlqQuery {
  std::optional<std::string> region;
  std::string after;
  int limit = 200;
};
Result<DlqQuery> parse_dlq_query(const QueryParams& query);

// If-Match: a bare positive integer, or a quoted one (an entity tag); empty: no condition.
Result<std::optional<int64_t>> parse_if_match(std::string_view s);

}  // namespace pahlawan

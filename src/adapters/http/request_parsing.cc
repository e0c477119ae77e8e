#include "adapters/http/request_parsing.h"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace pahlawan {
namespace {

std::optional<double> parse_double(std::string_view s) {
  double v;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A limit out of range is clamped here and refused by the service with the contract's message.
Result<int> parse_limit(std::string_view v) {
  auto n = parse_int(v);
  if (!n) return invalid("query parameter 'limit' must be an integer");
  return static_cast<int>(std::clamp<int64_t>(*n, -1, 100000));
}

}  // namespace

Result<RequestTarget> parse_target(std::string_view target) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return invalid("malformed request target");
  const boost::urls::url_view url = *parsed;
  RequestTarget out;
  for (auto s : url.segments()) out.segments.emplace_back(s);
  for (auto qp : url.params()) out.query.emplace_back(qp.key, qp.value);
  return out;
}

Result<BrowseRequest> parse_browse_query(const QueryParams& query) {
  BrowseRequest b;
  bool have_lat = false, have_lon = false;
  for (const auto& [key, value] : query) {
    if (key == "lat" || key == "lon" || key == "radius_m") {
      auto v = parse_double(value);
      if (!v) return invalid("query parameter '" + key + "' must be a number");
      (key == "lat" ? (have_lat = true, b.lat) : key == "lon" ? (have_lon = true, b.lon) : b.radius_m) = *v;
    } else if (key == "limit") {
      auto v = parse_limit(value);
      if (!v) return v.status();
      b.limit = *v;
    } else if (key == "category") {
      b.category = value;
    }
  }
  if (!have_lat || !have_lon) return invalid("query parameters 'lat' and 'lon' are required");
  return b;
}

Result<DlqQuery> parse_dlq_query(const QueryParams& query) {
  DlqQuery q;
  for (const auto& [k, v] : query) {
    if (k == "region") q.region = v;
    if (k == "after") q.after = v;
    if (k == "limit") {
      auto n = parse_limit(v);
      if (!n) return n.status();
      q.limit = *n;
    }
  }
  return q;
}

Result<std::optional<int64_t>> parse_if_match(std::string_view s) {
  if (s.empty()) return std::optional<int64_t>();
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  auto v = parse_int(s);
  if (!v || *v < 1) return invalid("If-Match must be a surplus version (a positive integer)");
  return std::optional<int64_t>(*v);
}

}  // namespace pahlawan

#include "adapters/routing/osrm_table.h"

#include <boost/json.hpp>
#include <cstdio>

namespace pahlawan {
namespace {

namespace json = boost::json;

void append_point(std::string& out, const GeoPoint& p) {
  char buf[64];
  // Six decimals are about 10 cm: finer than any road network.
  std::snprintf(buf, sizeof buf, "%.6f,%.6f", p.lon, p.lat);
  out += buf;
}

Status bad(const std::string& what) {
  return Status(ErrorCode::kUnavailable, "routing: " + what);
}

// The single row of a table annotation, checked for length.
const json::array* first_row(const json::object& doc, std::string_view key, size_t n) {
  const json::value* table = doc.if_contains(key);
  if (!table || !table->is_array() || table->as_array().empty()) return nullptr;
  const json::value& row = table->as_array().front();
  if (!row.is_array() || row.as_array().size() != n) return nullptr;
  return &row.as_array();
}

// A table cell: a number, or null (no route). Anything else is a malformed answer.
bool read_cell(const json::value& v, double& out) {
  if (v.is_null()) {
    out = kUnreachableSeconds;
    return true;
  }
  if (!v.is_number()) return false;
  out = v.to_number<double>();
  return out >= 0;
}

}  // namespace

std::string osrm_table_target(std::string_view prefix, std::string_view profile, const GeoPoint& origin,
                              const std::vector<GeoPoint>& destinations) {
  std::string out(prefix);
  out += "/table/v1/";
  out += profile;
  out += '/';
  append_point(out, origin);
  for (const GeoPoint& d : destinations) {
    out += ';';
    append_point(out, d);
  }
  out += "?sources=0&destinations=";
  for (size_t i = 1; i <= destinations.size(); ++i) {
    if (i > 1) out += ';';
    out += std::to_string(i);
  }
  out += "&annotations=duration,distance";
  return out;
}

RouteAnswer parse_osrm_table(std::string_view body, size_t destinations) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return bad("answer is not a JSON object");
  const json::object& obj = doc.as_object();
  const json::value* code = obj.if_contains("code");
  if (!code || !code->is_string()) return bad("answer has no code");
  if (code->as_string() != "Ok") return bad("router answered " + std::string(code->as_string()));
  const json::array* durations = first_row(obj, "durations", destinations);
  if (!durations) return bad("durations missing or of the wrong length");
  const json::array* distances = obj.contains("distances") ? first_row(obj, "distances", destinations) : nullptr;
  if (obj.contains("distances") && !distances) return bad("distances of the wrong length");

  std::vector<RouteEstimate> out(destinations);
  for (size_t i = 0; i < destinations; ++i) {
    if (!read_cell((*durations)[i], out[i].seconds)) return bad("a duration is not a number");
    if (distances && !read_cell((*distances)[i], out[i].meters)) return bad("a distance is not a number");
  }
  return out;
}

}  // namespace pahlawan

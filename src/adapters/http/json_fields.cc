#include "adapters/http/json_fields.h"

#include <boost/json.hpp>
#include <cmath>

namespace pahlawan::fields {
namespace json = boost::json;
namespace {

Status bad(const char* key, const char* what) {
  return invalid(std::string("field '") + key + "' " + what);
}

bool is_null_or_absent(const json::value* v) {
  return v == nullptr || v->is_null();
}

}  // namespace

Result<json::object> parse_object(const std::string& body) {
  if (body.empty()) return invalid("request body must be a JSON object");
  json::parse_options opts;
  opts.max_depth = 16;  // our bodies are flat; deep nesting is an attack, not a request
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, json::storage_ptr(), opts);
  if (ec) return invalid("malformed JSON: " + ec.message());
  if (!v.is_object()) return invalid("request body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> req_string(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return bad(key, "is required");
  if (!v->is_string()) return bad(key, "must be a string");
  return std::string(v->as_string());
}

Result<std::optional<std::string>> opt_string(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return std::optional<std::string>();
  if (!v->is_string()) return bad(key, "must be a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

Result<double> req_number(const json::object& o, const char* key) {
  auto r = opt_number(o, key);
  if (!r) return r.status();
  if (!*r) return bad(key, "is required");
  return **r;
}

Result<std::optional<double>> opt_number(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return std::optional<double>();
  if (!v->is_number()) return bad(key, "must be a number");
  const double d = v->to_number<double>();
  if (!std::isfinite(d)) return bad(key, "must be a finite number");
  return std::optional<double>(d);
}

Result<std::optional<int64_t>> opt_integer(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return std::optional<int64_t>();
  if (v->is_int64()) return std::optional<int64_t>(v->as_int64());
  if (v->is_uint64()) return bad(key, "is out of range");
  if (v->is_double()) {
    const double d = v->as_double();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
  }
  return bad(key, "must be an integer");
}

Result<std::optional<bool>> opt_bool(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return std::optional<bool>();
  if (!v->is_bool()) return bad(key, "must be true or false");
  return std::optional<bool>(v->as_bool());
}

Result<std::optional<std::vector<std::string>>> opt_string_array(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (is_null_or_absent(v)) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return bad(key, "must be an array of strings");
  std::vector<std::string> out;
  if (v->as_array().size() > 100) return bad(key, "has too many entries (at most 100)");
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) return bad(key, "must be an array of strings");
    out.emplace_back(e.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace pahlawan::fields

#include "adapters/otlp/otlp_json.h"

#include <boost/json.hpp>

namespace pahlawan {
namespace {

namespace json = boost::json;

json::object attribute(const std::string& key, const std::variant<std::string, int64_t>& value) {
  json::object v;
  if (const auto* s = std::get_if<std::string>(&value)) {
    v["stringValue"] = *s;
  } else {
    v["intValue"] = std::to_string(std::get<int64_t>(value));  // int64 is a string in OTLP/JSON
  }
  return json::object{{"key", key}, {"value", std::move(v)}};
}

json::object span_json(const SpanRecord& s) {
  json::object o{{"traceId", s.trace_id},
                 {"spanId", s.span_id},
                 {"name", s.name},
                 {"kind", static_cast<int>(s.kind)},
                 {"startTimeUnixNano", std::to_string(s.start_unix_ns)},
                 {"endTimeUnixNano", std::to_string(s.end_unix_ns)}};
  if (!s.parent_span_id.empty()) o["parentSpanId"] = s.parent_span_id;
  if (!s.tracestate.empty()) o["traceState"] = s.tracestate;
  json::array attrs;
  for (const auto& a : s.attributes) attrs.push_back(attribute(a.key, a.value));
  if (!attrs.empty()) o["attributes"] = std::move(attrs);
  if (s.error) o["status"] = json::object{{"code", 2}, {"message", s.status_message}};  // STATUS_CODE_ERROR
  return o;
}

}  // namespace

std::string otlp_json_body(const std::vector<std::pair<std::string, std::string>>& resource,
                           const std::vector<SpanRecord>& spans) {
  json::array resource_attrs;
  for (const auto& [k, v] : resource) resource_attrs.push_back(attribute(k, v));
  json::array span_array;
  for (const auto& s : spans) span_array.push_back(span_json(s));
  json::object scope_spans{{"scope", json::object{{"name", "pahlawan"}}}, {"spans", std::move(span_array)}};
  json::object resource_spans{{"resource", json::object{{"attributes", std::move(resource_attrs)}}},
                              {"scopeSpans", json::array{std::move(scope_spans)}}};
  return json::serialize(json::object{{"resourceSpans", json::array{std::move(resource_spans)}}});
}

}  // namespace pahlawan

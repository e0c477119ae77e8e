// The spans a test OTLP collector received (Receiver bodies in OTLP/JSON), flattened: one row per
// span with the service.instance.id of the process that sent it.
#pragma once

#include <boost/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "webhook_receiver.h"

namespace pahlawan::testing {

struct ReceivedSpan {
  std::string trace_id, span_id, parent_span_id, name, instance;
  int kind = 0;
  std::map<std::string, std::string> attributes;  // string values, and integers as their text
};

inline std::vector<ReceivedSpan> otlp_spans(const std::vector<Received>& requests) {
  namespace json = boost::json;
  std::vector<ReceivedSpan> out;
  for (const auto& req : requests) {
    const json::value body = json::parse(req.body);
    for (const auto& rs : body.at("resourceSpans").as_array()) {
      std::string instance;
      for (const auto& a : rs.at("resource").at("attributes").as_array()) {
        if (a.at("key") == "service.instance.id")
          instance = json::value_to<std::string>(a.at("value").at("stringValue"));
      }
      for (const auto& ss : rs.at("scopeSpans").as_array()) {
        for (const auto& s : ss.at("spans").as_array()) {
          const auto& o = s.as_object();
          ReceivedSpan r;
          r.trace_id = json::value_to<std::string>(o.at("traceId"));
          r.span_id = json::value_to<std::string>(o.at("spanId"));
          if (const auto* p = o.if_contains("parentSpanId")) r.parent_span_id = json::value_to<std::string>(*p);
          r.name = json::value_to<std::string>(o.at("name"));
          r.kind = static_cast<int>(o.at("kind").as_int64());
          r.instance = instance;
          if (const auto* attrs = o.if_contains("attributes")) {
            for (const auto& a : attrs->as_array()) {
              const auto& v = a.at("value").as_object();
              const auto* text = v.if_contains("stringValue");
              if (!text) text = v.if_contains("intValue");
              if (text) r.attributes[json::value_to<std::string>(a.at("key"))] = json::value_to<std::string>(*text);
            }
          }
          out.push_back(std::move(r));
        }
      }
    }
  }
  return out;
}

}  // namespace pahlawan::testing

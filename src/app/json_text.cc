#include "app/json_text.h"

#include "common/json_string.h"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

namespace pahlawan {
namespace json = boost::json;
namespace {

// Boost.JSON 1.81 prints every double in exponent form ("1.25E1"). Valid JSON, but an API's
// readers expect 12.5 and -6.2: numbers are written as the shortest decimal that reads back as the
// same double, in plain notation; strings are escaped by append_json_string, booleans and integers by
// Boost.JSON.
void write_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: {
      const double d = v.get_double();
      char buf[400];  // fixed notation of the largest double needs ~310 characters
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
      if (ec != std::errc() || !std::isfinite(d)) {
        out += "null";  // JSON has no NaN or infinity; the domain never holds one
      } else {
        out.append(buf, end);
      }
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, key);
        out += ':';
        write_json(out, value);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& value : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write_json(out, value);
      }
      out += ']';
      return;
    }
    case json::kind::string: append_json_string(out, v.get_string()); return;
    default: out += json::serialize(v); return;
  }
}

}  // namespace

std::string to_text(const json::value& v) {
  std::string out;
  out.reserve(512);
  write_json(out, v);
  return out;
}

}  // namespace pahlawan

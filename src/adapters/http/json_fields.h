// Reading request bodies: strict JSON (RFC 8259: no NaN/Infinity, valid UTF-8, bounded nesting) and
// typed field accessors whose errors name the field. Used by the API handlers only.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace pahlawan::fields {

Result<boost::json::object> parse_object(const std::string& body);

Result<std::string> req_string(const boost::json::object& o, const char* key);
Result<std::optional<std::string>> opt_string(const boost::json::object& o, const char* key);
Result<double> req_number(const boost::json::object& o, const char* key);
Result<std::optional<double>> opt_number(const boost::json::object& o, const char* key);
Result<std::optional<int64_t>> opt_integer(const boost::json::object& o, const char* key);
Result<std::optional<bool>> opt_bool(const boost::json::object& o, const char* key);
Result<std::optional<std::vector<std::string>>> opt_string_array(const boost::json::object& o, const char* key);

}  // namespace pahlawan::fields

// A JSON string literal, appended to `out`: plain bytes are copied as they are; quotes, backslashes
// and control characters are escaped (\u00XX for the controls without a short form). UTF-8 passes
// through. Shared by the API's JSON writer (app/json_text) and the log lines (common/log).
#pragma once

#include <string>
#include <string_view>

namespace pahlawan {

void append_json_string(std::string& out, std::string_view s);

}  // namespace pahlawan

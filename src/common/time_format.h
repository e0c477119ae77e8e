// RFC 3339 timestamps as the API contract writes them: UTC, millisecond precision, trailing 'Z'.
// Parsing accepts any RFC 3339 offset and fraction and converts to UTC. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace pahlawan {

std::string format_rfc3339(TimePoint t);
std::optional<TimePoint> parse_rfc3339(std::string_view text);
// A duration on the command line: "0", "500ms", "2s", "1.5s" (a bare number other than 0 is refused:
// the unit must be said). nullopt when it is none of these or negative.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace pahlawan

// Structured logs: one JSON object per line on stdout (where a container's log is collected) —
//   {"time":"2026-12-03T09:30:31.123Z","level":"info","msg":"request","route":"/v1/surplus",...}
// — so a log shipper needs no parser of its own, and a request's line carries its trace_id and
// span_id to find its trace. The level (--log-level) is process-wide, set once at start; lines less
// severe are not even formatted.
//
// What is never a field: a token, a secret, an Authorization header, a request or response body.
// Callers log ids, routes, statuses and error messages (which the code writes, and which never quote
// a credential).
// Thread-safety: log_line from any thread (one write(2) per line, so lines never interleave).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace pahlawan {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::optional<LogLevel> parse_log_level(std::string_view name);  // "debug", "info", "warn", "error"

struct LogField {
  std::string_view key;
  std::variant<std::string_view, int64_t, double> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
};

// REQUIRES: at start, before other threads log. `sink` receives each line with its newline (tests);
// without one, lines go to stdout.
void set_log_level(LogLevel level);
void set_log_sink(std::function<void(std::string_view)> sink);
bool log_enabled(LogLevel level);
void log_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
// The process's start and stop lines ("listening on", "draining", "drained"): written at any level,
// so an operator, a supervisor or a test always sees the server come up and go down.
void log_lifecycle(std::string_view msg, std::initializer_list<LogField> fields = {});

// The JSON line log_line writes (without the time, for tests: `time` is left out when at_ms < 0).
std::string format_log_line(int64_t at_ms, LogLevel level, std::string_view msg,
                            std::initializer_list<LogField> fields);

}  // namespace pahlawan

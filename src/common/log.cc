#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/json_string.h"
#include "common/time_format.h"

namespace pahlawan {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::function<void(std::string_view)>& sink() {
  static std::function<void(std::string_view)> s;
  return s;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == level_name(l)) return l;
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  g_level.store(static_cast<int>(level));
}

void set_log_sink(std::function<void(std::string_view)> s) {
  sink() = std::move(s);
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

std::string format_log_line(int64_t at_ms, LogLevel level, std::string_view msg,
                            std::initializer_list<LogField> fields) {
  std::string out = "{";
  if (at_ms >= 0) {
    out += "\"time\":";
    append_json_string(out, format_rfc3339(TimePoint(Millis(at_ms))));
    out += ',';
  }
  out += "\"level\":";
  append_json_string(out, level_name(level));
  out += ",\"msg\":";
  append_json_string(out, msg);
  for (const LogField& f : fields) {
    out += ',';
    append_json_string(out, f.key);
    out += ':';
    if (const auto* s = std::get_if<std::string_view>(&f.value)) {
      append_json_string(out, *s);
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      out += std::to_string(*i);
    } else {
      const double d = std::get<double>(f.value);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(d) ? d : 0.0);
      out += buf;
    }
  }
  out += "}\n";
  return out;
}

namespace {
void write_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const std::string line = format_log_line(now, level, msg, fields);
  if (sink()) return sink()(line);
  // One write per line: lines from several threads never interleave (short writes to a pipe of
  // less than PIPE_BUF bytes are atomic; longer lines are rare and still whole in practice).
  const ssize_t ignored = ::write(STDOUT_FILENO, line.data(), line.size());
  (void)ignored;
}
}  // namespace

void log_line(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (log_enabled(level)) write_line(level, msg, fields);
}

void log_lifecycle(std::string_view msg, std::initializer_list<LogField> fields) {
  write_line(LogLevel::kInfo, msg, fields);
}

}  // namespace pahlawan

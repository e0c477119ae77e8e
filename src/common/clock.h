// Clock: the only way the core learns the time.
//
// Nothing in domain, engine or app reads the wall clock directly; a Clock& is injected so that tests
// drive expiry and deadlines by advancing a fake clock instead of sleeping. Implementations must be
// safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace pahlawan {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

inline int64_t to_unix_ms(TimePoint t) {
  return t.time_since_epoch().count();
}
inline TimePoint from_unix_ms(int64_t ms) {
  return TimePoint(Millis(ms));
}

// An optional time as Unix milliseconds, as the stores bind nullable time columns.
inline std::optional<int64_t> opt_unix_ms(const std::optional<TimePoint>& t) {
  return t ? std::optional<int64_t>(to_unix_ms(*t)) : std::nullopt;
}

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }
};

}  // namespace pahlawan

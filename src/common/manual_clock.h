// ManualClock: time that moves only when its owner says so — a test, or the city simulator
// running an evening in seconds. Thread-safe.
#pragma once

#include <atomic>

#include "common/clock.h"

namespace pahlawan {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = from_unix_ms(1'795'000'000'000)) : now_ms_(to_unix_ms(start)) {}
  TimePoint now() const override { return from_unix_ms(now_ms_.load()); }
  void advance(Millis d) { now_ms_ += d.count(); }
  void set(TimePoint t) { now_ms_ = to_unix_ms(t); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace pahlawan

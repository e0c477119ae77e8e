// DeadlineQueue: items waiting for a moment (expiry now; offer deadlines later), ordered by time.
// pop_due(now) takes every entry whose time has come; the caller supplies `now` from its Clock, so
// tests drive it with a fake clock. Thread-safe. Stale entries (item changed meanwhile) are harmless:
// whoever acts on an entry re-checks the item.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include "common/clock.h"

namespace pahlawan {

// What happens when a deadline comes: the item expires; it leaves the hot index (it is older than
// the hot window and is served from the store from then on); its pending offer lapses; or it is
// matched again (after a match whose write failed); or a batch window closes (`cell` is then the
// region, and there is no item).
enum class DeadlineKind { kExpire, kCool, kOffer, kMatch, kWindow };

struct Deadline {
  TimePoint at;
  std::string surplus_id;
  uint64_t cell = 0;
  DeadlineKind kind = DeadlineKind::kExpire;
  bool operator>(const Deadline& o) const { return at > o.at; }
};

class DeadlineQueue {
 public:
  // Returns true when this entry became the earliest (a waiting timer should re-arm).
  bool push(Deadline d);
  // Called (outside the lock) whenever a push makes a new earliest entry. Set once, before use.
  void on_new_earliest(std::function<void()> listener) { listener_ = std::move(listener); }
  std::vector<Deadline> pop_due(TimePoint now);
  std::optional<TimePoint> next() const;
  size_t size() const;

 private:
  std::function<void()> listener_;
  mutable std::mutex mu_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> heap_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan

#include "common/fault.h"

#include <unistd.h>
#include <csignal>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace pahlawan::fault {
namespace {

struct Armed {
  Arming arming;
  long hits = 0;
  long fired = 0;
  long resumed = 0;   // pauses let go so far
  long delaying = 0;  // threads in this point's delay now
};

std::mutex mu;
std::condition_variable resumed_cv;                                  // a pause was let go
std::condition_variable hit_cv;                                      // a point was reached
std::map<std::string, Armed, std::less<>>& table() {                 // GUARDED_BY(mu)
  static auto* t = new std::map<std::string, Armed, std::less<>>();  // never destroyed: points may run at exit
  return *t;
}
std::atomic<bool> any_armed{false};

bool to_long(std::string_view s, long& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

Result<Arming> parse_one(std::string_view item) {
  const Status bad(ErrorCode::kInvalidRequest, "bad fault spec: " + std::string(item));
  const size_t eq = item.find('=');
  if (eq == 0 || eq == std::string_view::npos) return bad;
  Arming a;
  a.point = std::string(item.substr(0, eq));
  std::string_view rest = item.substr(eq + 1);
  if (size_t x = rest.find('x'); x != std::string_view::npos) {
    if (!to_long(rest.substr(x + 1), a.times) || a.times == 0) return bad;
    rest = rest.substr(0, x);
  }
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    if (!to_long(rest.substr(at + 1), a.from_hit) || a.from_hit == 0) return bad;
    rest = rest.substr(0, at);
  }
  if (rest == "crash") {
    a.action = Action::kCrash;
  } else if (rest == "error") {
    a.action = Action::kError;
  } else if (rest == "pause") {
    a.action = Action::kPause;
  } else if (rest.starts_with("delay:")) {
    long ms = 0;
    if (!to_long(rest.substr(6), ms) || ms > 600000) return bad;
    a.action = Action::kDelay;
    a.delay_ms = static_cast<int>(ms);
  } else {
    return bad;
  }
  return a;
}

}  // namespace

Result<std::vector<Arming>> parse(std::string_view spec) {
  std::vector<Arming> out;
  while (!spec.empty()) {
    const size_t semi = spec.find(';');
    const std::string_view item = spec.substr(0, semi);
    if (!item.empty()) {
      auto a = parse_one(item);
      if (!a) return a.status();
      out.push_back(std::move(*a));
    }
    if (semi == std::string_view::npos) break;
    spec.remove_prefix(semi + 1);
  }
  return out;
}

void arm(const Arming& arming) {
  std::lock_guard lock(mu);
  table()[arming.point] = Armed{arming, 0, 0};
  any_armed.store(true, std::memory_order_release);
}

void disarm_all() {
  {
    std::lock_guard lock(mu);
    table().clear();
    any_armed.store(false, std::memory_order_release);
  }
  resumed_cv.notify_all();
}

void resume(std::string_view point) {
  {
    std::lock_guard lock(mu);
    auto it = table().find(point);
    if (it == table().end()) return;
    it->second.resumed = it->second.fired;
  }
  resumed_cv.notify_all();
}

bool compiled_in() {
#ifdef PAHLAWAN_FAULT_INJECTION
  return true;
#else
  return false;
#endif
}

long hits(std::string_view point) {
  std::lock_guard lock(mu);
  auto it = table().find(point);
  return it == table().end() ? 0 : it->second.hits;
}

std::vector<PointState> armed_points() {
  std::lock_guard lock(mu);
  std::vector<PointState> out;
  for (const auto& [name, armed] : table()) out.push_back({name, armed.hits, armed.delaying});
  return out;
}

bool wait_hits(std::string_view point, long n, int timeout_ms) {
  std::unique_lock lock(mu);
  return hit_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    auto it = table().find(point);
    return it != table().end() && it->second.hits >= n;
  });
}

bool hit(const char* point) {
  if (!any_armed.load(std::memory_order_acquire)) return false;
  Action action;
  int delay_ms = 0;
  {
    std::unique_lock lock(mu);
    auto it = table().find(std::string_view(point));
    if (it == table().end()) return false;
    Armed& a = it->second;
    ++a.hits;
    hit_cv.notify_all();
    if (a.hits < a.arming.from_hit) return false;
    if (a.arming.times >= 0 && a.fired >= a.arming.times) return false;
    const long ticket = ++a.fired;
    action = a.arming.action;
    delay_ms = a.arming.delay_ms;
    if (action == Action::kPause) {
      const std::string name(point);
      // Until resume() lets this hit go, or the points are disarmed.
      resumed_cv.wait(lock, [&] {
        auto now = table().find(name);
        return now == table().end() || now->second.resumed >= ticket;
      });
      return false;
    }
  }
  switch (action) {
    case Action::kCrash:
      ::kill(::getpid(), SIGKILL);
      for (;;) ::pause();  // SIGKILL is delivered before kill() returns to a single-threaded caller; not always to ours
    case Action::kDelay: {
      auto count = [point](long by) {
        std::lock_guard lock(mu);
        if (auto it = table().find(std::string_view(point)); it != table().end()) it->second.delaying += by;
      };
      count(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      count(-1);
      return false;
    }
    case Action::kError: return true;
    case Action::kPause: return false;
  }
  return false;
}

}  // namespace pahlawan::fault

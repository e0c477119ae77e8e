// CircuitBreaker: stops calling a dependency (the road router) that keeps failing or answering too
// slowly, so that every match does not wait out its timeout; after a cool-down one probe call tests
// whether it has recovered.
//
//   Closed   — calls go through; failure_threshold consecutive failures (a success slower than
//              slow_call counts as one) open the breaker.
//   Open     — calls are refused until cool_down has passed since it opened; the first allow()
//              after that moves to HalfOpen and lets exactly one probe through.
//   HalfOpen — the probe is outstanding and every other call is refused; a fast success closes the
//              breaker, a failure or a slow success opens it again with a fresh cool-down.
//
// The caller must report the outcome of every call that allow() let through (record_success or
// record_failure), otherwise a half-open breaker waits for its probe forever. Outcomes reported while
// Open (calls let through before it opened) are ignored. Time comes only from the injected Clock.
//
// Thread-safety: every method is safe from any thread; mu_ is a leaf lock, and nothing is called
// out while it is held except Clock::now().
#pragma once

#include <mutex>

#include "common/clock.h"

namespace pahlawan {

struct CircuitBreakerOptions {
  int failure_threshold = 5;          // consecutive failures or slow calls that open the breaker
  Millis slow_call = Millis(1500);    // a success that took longer than this counts as a failure
  Millis cool_down = Millis(30'000);  // how long the breaker stays open before a probe
};

class CircuitBreaker {
 public:
  // Values are those of the metric gauge (state_value()).
  enum class State { kClosed = 0, kHalfOpen = 1, kOpen = 2 };

  explicit CircuitBreaker(const Clock& clock, CircuitBreakerOptions options = {});

  // May a call go through now? In HalfOpen, true exactly once (the probe).
  bool allow();
  void record_success(Millis took);
  void record_failure();

  // The stored state: an open breaker whose cool-down has passed still reads Open until allow().
  State state() const;
  int state_value() const { return static_cast<int>(state()); }
  static const char* state_name(State s);

 private:
  // REQUIRES: mu_ held.
  void fail_locked();

  const Clock& clock_;
  const CircuitBreakerOptions options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;  // GUARDED_BY(mu_)
  int consecutive_failures_ = 0;  // GUARDED_BY(mu_)
  TimePoint opened_at_{};         // GUARDED_BY(mu_)
};

}  // namespace pahlawan

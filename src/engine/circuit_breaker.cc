#include "engine/circuit_breaker.h"

namespace pahlawan {

CircuitBreaker::CircuitBreaker(const Clock& clock, CircuitBreakerOptions options) : clock_(clock), options_(options) {}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case State::kClosed: return true;
    case State::kHalfOpen: return false;  // the probe is still out; one answer decides, not a stampede
    case State::kOpen:
      if (clock_.now() - opened_at_ < options_.cool_down) return false;
      state_ = State::kHalfOpen;
      return true;
  }
  return false;
}

void CircuitBreaker::record_success(Millis took) {
  std::lock_guard lock(mu_);
  // A router that answers after the match should have been made is as useless as one that fails.
  if (took > options_.slow_call) {
    fail_locked();
    return;
  }
  if (state_ == State::kOpen) return;  // a late answer to a call let through before opening
  state_ = State::kClosed;
  consecutive_failures_ = 0;
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mu_);
  fail_locked();
}

void CircuitBreaker::fail_locked() {
  switch (state_) {
    case State::kClosed:
      if (++consecutive_failures_ < options_.failure_threshold) return;
      break;
    case State::kHalfOpen: break;
    case State::kOpen: return;  // already open; a late failure must not extend the cool-down
  }
  state_ = State::kOpen;
  opened_at_ = clock_.now();
  consecutive_failures_ = 0;
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

const char* CircuitBreaker::state_name(State s) {
  switch (s) {
    case State::kClosed: return "closed";
    case State::kHalfOpen: return "half_open";
    case State::kOpen: return "open";
  }
  return "unknown";
}

}  // namespace pahlawan

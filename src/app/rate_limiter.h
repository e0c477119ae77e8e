// RateLimiter: a token bucket per caller (provider or NGO id), so one misbehaving client cannot take
// the server from everyone else. `rate` requests per second on average, bursts up to `burst`. The
// admin is not limited. Time comes from the injected Clock. Thread-safe (one mutex; the map holds one
// small entry per caller seen).
#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/status.h"
#include "domain/party.h"

namespace pahlawan {

class RateLimiter {
 public:
  // rate <= 0 disables limiting.
  RateLimiter(const Clock& clock, double rate, double burst) : clock_(clock), rate_(rate), burst_(burst) {}

  // ok, or kRateLimited with the seconds until a request would be allowed (for Retry-After).
  Status admit(const Principal& who);

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated;
  };
  const Clock& clock_;
  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan

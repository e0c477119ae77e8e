// IdGenerator: time-ordered opaque ids (UUIDv7, RFC 9562) for surplus, parties and events.
//
// The timestamp comes from the injected Clock; the random bits from a per-generator PRNG seeded from
// std::random_device. Within one millisecond ids stay ordered through a monotonic counter in rand_a.
// Thread-safe (internally locked; ids are minted at well under a million per second).
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "common/clock.h"

namespace pahlawan {

class IdGenerator {
 public:
  explicit IdGenerator(const Clock& clock);
  // Random bits from a fixed seed: the same ids every run (the city simulator's determinism).
  IdGenerator(const Clock& clock, uint64_t seed);
  std::string next();

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::mt19937_64 rng_;   // GUARDED_BY(mu_)
  int64_t last_ms_ = 0;   // GUARDED_BY(mu_)
  uint16_t counter_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan

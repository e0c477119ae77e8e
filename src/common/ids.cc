#include "common/ids.h"

#include <cstdio>

namespace pahlawan {

IdGenerator::IdGenerator(const Clock& clock) : clock_(clock) {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

IdGenerator::IdGenerator(const Clock& clock, uint64_t seed) : clock_(clock), rng_(seed) {}

std::string IdGenerator::next() {
  uint64_t ms, rand_a, rand_b;
  {
    std::lock_guard lock(mu_);
    int64_t now = to_unix_ms(clock_.now());
    // A clock that steps back must not make ids go backwards.
    if (now <= last_ms_) {
      now = last_ms_;
      if (++counter_ >= 0x0fff) {
        ++now;
        counter_ = 0;
      }
    } else {
      counter_ = static_cast<uint16_t>(rng_() & 0x03ff);  // leave room to count up within the ms
    }
    last_ms_ = now;
    ms = static_cast<uint64_t>(now);
    rand_a = counter_;
    rand_b = rng_();
  }
  const uint64_t hi = (ms << 16) | 0x7000 | (rand_a & 0x0fff);
  const uint64_t lo = (rand_b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace pahlawan

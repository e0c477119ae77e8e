#include "app/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace pahlawan {

Status RateLimiter::admit(const Principal& who) {
  if (rate_ <= 0 || who.role == Role::kAdmin) return Status::ok();
  const TimePoint now = clock_.now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(who.id, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return Status::ok();
  }
  const int wait_s = static_cast<int>(std::ceil((1.0 - b.tokens) / rate_));
  return {ErrorCode::kRateLimited, std::to_string(std::max(1, wait_s))};
}

}  // namespace pahlawan

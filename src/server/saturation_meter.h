// SaturationMeter: how busy the matching engine — the shard actors' mailboxes — is: the time their
// tasks ran, over the time the worker threads had (threads × wall time), since the previous reading.
// Exported as matching_engine_saturation_ratio; the window is the scrape interval. Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

namespace pahlawan {

class SaturationMeter {
 public:
  explicit SaturationMeter(unsigned threads) : threads_(std::max(1u, threads)) {}

  void add_busy(std::chrono::steady_clock::duration d) {
    busy_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::memory_order_relaxed);
  }

  // The busy share since the previous call, in [0, 1].
  double read() {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    const int64_t busy = busy_ns_.load(std::memory_order_relaxed);
    const double window_ns = std::chrono::duration<double, std::nano>(now - last_read_).count() * threads_;
    const double ratio = window_ns > 0 ? static_cast<double>(busy - last_busy_ns_) / window_ns : 0.0;
    last_read_ = now;
    last_busy_ns_ = busy;
    return std::clamp(ratio, 0.0, 1.0);
  }

 private:
  const unsigned threads_;
  std::atomic<int64_t> busy_ns_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point last_read_ = std::chrono::steady_clock::now();  // GUARDED_BY(mu_)
  int64_t last_busy_ns_ = 0;                                                            // GUARDED_BY(mu_)
};

}  // namespace pahlawan

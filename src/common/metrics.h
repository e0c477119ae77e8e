// A small Prometheus-style metrics registry (no client library for C++ is packaged in Debian 12).
//
// Metrics are created once at wiring time and then updated lock-free from any thread; render() writes
// the text exposition format 0.0.4. A metric family is declared once per component (see each
// component's *_metrics.h). Pointers returned by the registry live as long as the registry.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pahlawan {

class Counter {
 public:
  void inc(double v = 1.0);
  // For a counter derived from an exact integer total kept elsewhere (e.g. grams → tonnes), so that
  // summing fractions never drifts. The caller guarantees it never decreases.
  void set_total(double v) { value_.store(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double v);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  uint64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // non-cumulative, one per bound
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

class MetricsRegistry {
 public:
  // labels: a rendered label set such as `code="200"`, or empty. Same name + labels → same metric.
  Counter& counter(const std::string& name, const std::string& help, const std::string& labels = "");
  Gauge& gauge(const std::string& name, const std::string& help, const std::string& labels = "");
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const std::string& labels = "");
  // Runs before each render(), to refresh gauges that are read rather than pushed (queue depths).
  void add_collector(std::function<void()> collector);
  std::string render() const;

 private:
  struct Family {
    std::string type, help;
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const char* type, const std::string& help);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;         // GUARDED_BY(mu_)
  std::vector<std::function<void()>> collectors_;  // set at wiring time, before render() is called
};

}  // namespace pahlawan

#include "common/metrics.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace pahlawan {
namespace {

void atomic_add(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

// The shortest text that reads back as the same double (0.0125, not 0.012500000000000001).
std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

std::string with_labels(const std::string& name, const std::string& labels, const std::string& extra = "") {
  std::string all = labels;
  if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
  return all.empty() ? name : name + "{" + all + "}";
}

}  // namespace

void Counter::inc(double v) {
  atomic_add(value_, v);
}
void Gauge::add(double v) {
  atomic_add(value_, v);
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const char* type, const std::string& help) {
  auto& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
  return f;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "counter", help).counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "gauge", help).gauges[labels];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                      const std::string& labels) {
  std::lock_guard lock(mu_);
  auto& slot = family(name, "histogram", help).histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void MetricsRegistry::add_collector(std::function<void()> collector) {
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::render() const {
  for (const auto& c : collectors_) c();
  std::lock_guard lock(mu_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    out << "# HELP " << name << ' ' << f.help << "\n# TYPE " << name << ' ' << f.type << '\n';
    for (const auto& [labels, c] : f.counters) out << with_labels(name, labels) << ' ' << num(c->value()) << '\n';
    for (const auto& [labels, g] : f.gauges) out << with_labels(name, labels) << ' ' << num(g->value()) << '\n';
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h->bounds().size(); ++i) {
        cumulative += h->bucket_count(i);
        out << with_labels(name + "_bucket", labels, "le=\"" + num(h->bounds()[i]) + "\"") << ' ' << cumulative << '\n';
      }
      cumulative += h->bucket_count(h->bounds().size());
      out << with_labels(name + "_bucket", labels, "le=\"+Inf\"") << ' ' << cumulative << '\n';
      out << with_labels(name + "_sum", labels) << ' ' << num(h->sum()) << '\n';
      out << with_labels(name + "_count", labels) << ' ' << cumulative << '\n';
    }
  }
  return out.str();
}

}  // namespace pahlawan

#include "engine/tracer.h"

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

#include "common/trace_context.h"

namespace pahlawan {
namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Span& Span::operator=(Span&& o) noexcept {
  if (this != &o) {
    end();
    tracer_ = o.tracer_;
    traceparent_ = std::move(o.traceparent_);
    record_ = std::move(o.record_);
    o.tracer_ = nullptr;
  }
  return *this;
}

void Span::set(std::string key, std::string value) {
  if (tracer_) record_.attributes.push_back(SpanAttribute{std::move(key), std::move(value)});
}

void Span::set(std::string key, int64_t value) {
  if (tracer_) record_.attributes.push_back(SpanAttribute{std::move(key), value});
}

void Span::fail(std::string message) {
  if (!tracer_) return;
  record_.error = true;
  record_.status_message = std::move(message);
}

void Span::end() {
  if (!tracer_) return;
  const Tracer* t = tracer_;
  tracer_ = nullptr;
  record_.end_unix_ns = t->now_ns_();
  t->exporter_->submit(std::move(record_));
}

Tracer::Tracer(SpanExporter* exporter, double sample_ratio, std::function<uint64_t()> random64,
               std::function<int64_t()> now_ns)
    : exporter_(exporter), sample_ratio_(sample_ratio), random64_(std::move(random64)), now_ns_(std::move(now_ns)) {}

int64_t Tracer::system_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Span Tracer::start(std::string_view name, SpanKind kind, std::string_view parent, std::string_view tracestate) const {
  Span span;
  const bool child = valid_traceparent(parent);
  uint64_t id = 0;
  while (id == 0) id = random64_();
  bool sampled;
  std::string trace_id;
  if (child) {
    trace_id = std::string(parent.substr(3, 32));
    sampled = (std::stoi(std::string(parent.substr(53, 2)), nullptr, 16) & 1) != 0;
  } else {
    uint64_t hi = random64_(), lo = random64_();
    if (hi == 0 && lo == 0) lo = 1;
    trace_id = hex64(hi) + hex64(lo);
    // The top 53 bits as a fraction in [0, 1): below the ratio is kept.
    sampled = static_cast<double>(random64_() >> 11) * 0x1.0p-53 < sample_ratio_;
  }
  span.traceparent_ = "00-" + trace_id + "-" + hex64(id) + (sampled ? "-01" : "-00");
  if (!exporter_ || !sampled || !exporter_->admit()) return span;
  span.tracer_ = this;
  SpanRecord& r = span.record_;
  r.trace_id = std::move(trace_id);
  r.span_id = hex64(id);
  if (child) r.parent_span_id = std::string(parent.substr(36, 16));
  if (child && valid_tracestate(tracestate)) r.tracestate = std::string(tracestate);
  r.name = std::string(name);
  r.kind = kind;
  r.start_unix_ns = now_ns_();
  return span;
}

const Tracer& untraced() {
  static const Tracer tracer(nullptr, 0.0, [] {
    static std::mutex mu;
    static std::mt19937_64 rng(std::random_device{}());
    std::lock_guard lock(mu);
    return rng();
  });
  return tracer;
}

}  // namespace pahlawan

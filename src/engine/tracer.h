// Tracer: starts spans for the W3C trace context a request or event carries, and hands the finished
// ones to a SpanExporter.
//
// Every span gets a fresh span id and a traceparent of its own (what is handed on: to the next span,
// into the outbox event, into NATS and webhook headers), whether or not it is recorded, so the
// context a client sees does not depend on how the server is configured. A span is recorded only
// with an exporter, and only if sampled: a root span (no valid parent) with probability
// `sample_ratio`, a child as its parent says (the traceparent's sampled flag, so one trace is kept or
// dropped whole, across replicas). Unrecorded spans cost an id and a string.
// Thread-safety: Tracer is thread-safe; a Span belongs to one thread at a time (it may move between).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ports/span_exporter.h"

namespace pahlawan {

class Tracer;

class Span {
 public:
  Span() = default;  // inert: hands on nothing, records nothing
  Span(Span&& o) noexcept { *this = std::move(o); }
  Span& operator=(Span&& o) noexcept;
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;
  ~Span() { end(); }

  // This span's context ("00-<trace>-<span>-<flags>"): what a child or the next hop continues.
  const std::string& traceparent() const { return traceparent_; }
  bool recording() const { return tracer_ != nullptr; }
  void set(std::string key, std::string value);
  void set(std::string key, int64_t value);
  void fail(std::string message);  // marks the span's status an error
  // Ends the span (once; later calls do nothing) and, if recorded, hands it to the exporter.
  void end();

 private:
  friend class Tracer;
  const Tracer* tracer_ = nullptr;  // null: not recorded
  std::string traceparent_;
  SpanRecord record_;
};

class Tracer {
 public:
  // exporter: null records nothing. random64: fresh random bits for ids (thread-safe). now_ns: Unix
  // time in nanoseconds, injected for tests.
  Tracer(SpanExporter* exporter, double sample_ratio, std::function<uint64_t()> random64,
         std::function<int64_t()> now_ns = system_now_ns);
  // parent: a traceparent (an invalid or empty one starts a new trace). tracestate: passed on as it
  // came with the parent (only kept if it is well formed, see valid_tracestate).
  Span start(std::string_view name, SpanKind kind, std::string_view parent, std::string_view tracestate = {}) const;
  bool exporting() const { return exporter_ != nullptr; }

  static int64_t system_now_ns();

 private:
  friend class Span;
  SpanExporter* exporter_;
  double sample_ratio_;
  std::function<uint64_t()> random64_;
  std::function<int64_t()> now_ns_;
};

// A tracer that records nothing, for wiring without tracing (tests, tools): ids from a local generator.
const Tracer& untraced();

}  // namespace pahlawan

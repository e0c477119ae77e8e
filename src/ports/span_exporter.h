// SpanExporter: where finished trace spans go — an OTLP collector in production (adapters/otlp),
// nowhere by default. submit() is called on request paths and must never block or fail: an exporter
// that cannot keep up drops spans and counts them.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace pahlawan {

// The OTLP numbering (opentelemetry/proto/trace/v1/trace.proto, Span.SpanKind).
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

struct SpanAttribute {
  std::string key;
  std::variant<std::string, int64_t> value;
};

struct SpanRecord {
  std::string trace_id;        // 32 lowercase hex digits
  std::string span_id;         // 16 lowercase hex digits
  std::string parent_span_id;  // empty: the trace's root
  std::string tracestate;      // the W3C tracestate the span was started with, as it came
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  std::vector<SpanAttribute> attributes;
  bool error = false;
  std::string status_message;  // with error: what went wrong
};

class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Asked as a sampled span starts: false if the exporter would only drop it (its queue is full),
  // and then counts it dropped; the span is not recorded at all. So an exporter that cannot keep up,
  // or whose collector is dead, costs a request a check instead of a span's strings. Thread-safe.
  virtual bool admit() { return true; }
  // Takes a finished span. Never blocks; may drop (and count) it. Thread-safe.
  virtual void submit(SpanRecord span) = 0;
};

}  // namespace pahlawan

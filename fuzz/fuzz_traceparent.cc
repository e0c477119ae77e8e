// W3C trace context: whatever traceparent and tracestate come in, the span started from them hands
// on a valid traceparent; a valid one is continued (same trace id, a new span id, its sampled flag
// kept), anything else starts a new trace.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/trace_context.h"
#include "engine/tracer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  // The first line is the traceparent, the rest the tracestate.
  const size_t nl = all.find('\n');
  const std::string_view in = all.substr(0, nl);
  const std::string_view state = nl == std::string_view::npos ? std::string_view{} : all.substr(nl + 1);
  (void)valid_tracestate(state);
  const Tracer& tracer = untraced();
  Span span = tracer.start("fuzz", SpanKind::kServer, in, state);
  const std::string& out = span.traceparent();
  if (!valid_traceparent(out)) std::abort();
  if (valid_traceparent(in)) {
    if (out.substr(0, 35) != in.substr(0, 35)) std::abort();    // same version and trace id
    if (out.substr(36, 16) == in.substr(36, 16)) std::abort();  // a new span id
  }
  return 0;
}

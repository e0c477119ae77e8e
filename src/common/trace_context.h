// W3C Trace Context: which traceparent and tracestate headers are well formed. Spans and the contexts
// they hand on are made by the Tracer (engine/tracer.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pahlawan {

bool valid_traceparent(std::string_view tp);
// A W3C tracestate header worth passing on: at most 512 characters and 32 comma-separated
// key=value members of printable ASCII. A malformed one is dropped, as the specification asks.
bool valid_tracestate(std::string_view ts);

}  // namespace pahlawan

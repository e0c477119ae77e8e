// W3C Trace Context (traceparent) handling: continue an incoming trace with a new span of our own, or
// start a trace when the request carried none (or an invalid one). Pure apart from the random source
// passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pahlawan {

bool valid_traceparent(std::string_view tp);
// `random64` supplies fresh random bits (trace and span ids must not be guessable or repeat).
std::string child_traceparent(std::string_view incoming, const std::function<uint64_t()>& random64);

}  // namespace pahlawan

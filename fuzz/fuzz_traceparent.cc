// W3C traceparent: whatever comes in, what goes out is a valid traceparent; a valid one is continued
// (same trace id, a new span id), anything else starts a new trace.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  uint64_t n = 0x9e3779b97f4a7c15ULL;
  const std::string out = child_traceparent(in, [&n] { return n += 0x9e3779b97f4a7c15ULL; });
  if (!valid_traceparent(out)) std::abort();
  if (valid_traceparent(in) && out.substr(0, 35) != in.substr(0, 35)) std::abort();
  return 0;
}

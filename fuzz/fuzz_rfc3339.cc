// RFC 3339 times (expires_at): any bytes parse or are refused; what parses formats to a time that
// parses back to the same instant.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/time_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  auto t = parse_rfc3339(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!t) return 0;
  auto again = parse_rfc3339(format_rfc3339(*t));
  if (!again || std::chrono::duration_cast<std::chrono::milliseconds>(*again - *t).count() != 0) std::abort();
  return 0;
}

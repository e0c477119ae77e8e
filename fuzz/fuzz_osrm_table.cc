// The OSRM table answer: any body is a table of the asked size or kUnavailable, never a crash; the
// first byte picks how many destinations were asked for.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/routing/osrm_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  if (size == 0) return 0;
  const size_t destinations = data[0] % 8;
  auto r = parse_osrm_table(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), destinations);
  if (r && r->size() != destinations) std::abort();
  if (!r && r.status().code() != ErrorCode::kUnavailable) std::abort();
  if (r) {
    for (const auto& e : *r) {
      if (!(e.seconds >= 0) || !(e.meters >= 0)) std::abort();
    }
  }
  return 0;
}

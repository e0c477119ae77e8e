// Request bodies: the strict JSON reader and every typed accessor the handlers use, on any bytes.
// Invariant: a body is accepted as an object or refused with kInvalidRequest — never a crash, never
// another error code.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "adapters/http/json_fields.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto o = fields::parse_object(body);
  if (!o) {
    if (o.status().code() != ErrorCode::kInvalidRequest) std::abort();
    return 0;
  }
  for (const char* key : {"title", "category", "name", "kind", "webhook_url", "ngo_id", "expires_at"}) {
    (void)fields::req_string(*o, key);
    (void)fields::opt_string(*o, key);
  }
  for (const char* key : {"quantity_kg", "lat", "lon", "capacity_kg", "radius_m"}) {
    auto n = fields::req_number(*o, key);
    if (n && !(*n == *n)) std::abort();  // NaN never passes
    (void)fields::opt_number(*o, key);
  }
  (void)fields::opt_integer(*o, "ttl_seconds");
  (void)fields::opt_bool(*o, "include_food_banks");
  (void)fields::opt_string_array(*o, "categories");
  return 0;
}

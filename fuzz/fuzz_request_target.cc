// What a request carries outside its body: the target (path and query string, percent-decoding),
// the browse and DLQ query parameters, If-Match and Last-Event-ID. The input is split at the first
// two newlines into target, If-Match and Last-Event-ID.
// Invariants: every refusal is kInvalidRequest; an accepted If-Match is a positive version; an
// accepted browse query has finite coordinates.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "adapters/http/request_parsing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pahlawan;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto cut = [&in]() {
    const size_t nl = in.find('\n');
    std::string_view head = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    return head;
  };
  const std::string_view target = cut(), if_match = cut();
  auto t = parse_target(target);
  if (t) {
    auto b = parse_browse_query(t->query);
    if (b && (!std::isfinite(b->lat) || !std::isfinite(b->lon) || !std::isfinite(b->radius_m))) std::abort();
    if (!b && b.status().code() != ErrorCode::kInvalidRequest) std::abort();
    auto d = parse_dlq_query(t->query);
    if (!d && d.status().code() != ErrorCode::kInvalidRequest) std::abort();
  } else if (t.status().code() != ErrorCode::kInvalidRequest) {
    std::abort();
  }
  auto v = parse_if_match(if_match);
  if (v && *v && **v < 1) std::abort();
  if (!v && v.status().code() != ErrorCode::kInvalidRequest) std::abort();
  return 0;
}

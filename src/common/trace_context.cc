#include "common/trace_context.h"

#include <cstdio>

namespace pahlawan {
namespace {

bool lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

bool valid_traceparent(std::string_view tp) {
  // version "00": 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  const auto version = tp.substr(0, 2), trace = tp.substr(3, 32), span = tp.substr(36, 16), flags = tp.substr(53, 2);
  return version == "00" && lower_hex(trace) && lower_hex(span) && lower_hex(flags) && !all_zero(trace) &&
         !all_zero(span);
}

std::string child_traceparent(std::string_view incoming, const std::function<uint64_t()>& random64) {
  uint64_t span = 0;
  while (span == 0) span = random64();
  if (valid_traceparent(incoming)) {
    return "00-" + std::string(incoming.substr(3, 32)) + "-" + hex64(span) + "-" + std::string(incoming.substr(53, 2));
  }
  uint64_t hi = random64(), lo = random64();
  if (hi == 0 && lo == 0) lo = 1;
  return "00-" + hex64(hi) + hex64(lo) + "-" + hex64(span) + "-01";
}

}  // namespace pahlawan

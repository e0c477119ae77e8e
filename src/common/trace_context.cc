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

}  // namespace

bool valid_traceparent(std::string_view tp) {
  // version "00": 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>
  if (tp.size() != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return false;
  const auto version = tp.substr(0, 2), trace = tp.substr(3, 32), span = tp.substr(36, 16), flags = tp.substr(53, 2);
  return version == "00" && lower_hex(trace) && lower_hex(span) && lower_hex(flags) && !all_zero(trace) &&
         !all_zero(span);
}

bool valid_tracestate(std::string_view ts) {
  if (ts.empty() || ts.size() > 512) return false;
  int members = 0;
  size_t start = 0;
  while (start <= ts.size()) {
    size_t comma = ts.find(',', start);
    if (comma == std::string_view::npos) comma = ts.size();
    std::string_view m = ts.substr(start, comma - start);
    while (!m.empty() && (m.front() == ' ' || m.front() == '\t')) m.remove_prefix(1);
    while (!m.empty() && (m.back() == ' ' || m.back() == '\t')) m.remove_suffix(1);
    if (!m.empty()) {  // empty members are allowed and ignored
      const size_t eq = m.find('=');
      if (eq == 0 || eq == std::string_view::npos || eq + 1 == m.size() || ++members > 32) return false;
      for (char c : m) {
        if (c < 0x20 || c > 0x7e) return false;
      }
    }
    start = comma + 1;
  }
  return members > 0;
}

}  // namespace pahlawan

#include "common/time_format.h"

#include <cctype>
#include <charconv>
#include <cstdio>

namespace pahlawan {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  const auto ms = t.time_since_epoch().count();
  const auto day_point = floor<days>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd(day_point);
  // In [0, 86'400'000) by construction; unsigned so the formatter knows the field widths.
  const auto ms_of_day = static_cast<unsigned>(ms - duration_cast<milliseconds>(day_point.time_since_epoch()).count());
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), ms_of_day / 3600000,
                ms_of_day / 60000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
  return buf;
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDaysInMonth[month - 1] || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    int64_t scale = 100;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (n < 3) millis += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
      ++n;
    }
    if (n == 0) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
        oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + (second == 60 ? 59 : second) - offset_minutes * 60;
  // An offset can carry 9999-12-31 into year 10000, or 0000-01-01 into year -1: instants that have no
  // four-digit RFC 3339 form, so nothing could write them back (found by fuzz/fuzz_rfc3339).
  static const int64_t kFirst = days_from_civil(0, 1, 1) * 86400, kLast = days_from_civil(10000, 1, 1) * 86400;
  if (secs < kFirst || secs >= kLast) return std::nullopt;
  return from_unix_ms(secs * 1000 + millis);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double x = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, x);
  if (ec != std::errc() || !(x >= 0) || x > 1e9) return std::nullopt;
  const std::string_view unit(p, static_cast<size_t>(end - p));
  if (unit == "ms") return std::chrono::milliseconds(static_cast<int64_t>(x));
  if (unit == "s" || (unit.empty() && x == 0)) return std::chrono::milliseconds(static_cast<int64_t>(x * 1000));
  return std::nullopt;
}

}  // namespace pahlawan

#include "domain/validation.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include <cmath>

#include "domain/geo.h"

namespace pahlawan {

Status validate_coordinates(double lat, double lon) {
  if (!valid_lat(lat)) return invalid("lat must be a number in [-90, 90]");
  if (!valid_lon(lon)) return invalid("lon must be a number in [-180, 180]");
  return Status::ok();
}

Status validate_name(const std::string& field, const std::string& value) {
  bool blank = true;
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20) return invalid(field + " must not contain control characters");
    if (c != ' ') blank = false;
  }
  if (blank) return invalid(field + " must not be empty");
  if (value.size() > kMaxNameBytes) return invalid(field + " must be at most 200 bytes");
  return Status::ok();
}

Status validate_category(const std::string& category) {
  if (category.empty() || category.size() > 40) return invalid("category must be 1 to 40 characters");
  for (char c : category) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return invalid("category must be a lower-case word (a-z, 0-9, '_' or '-')");
    }
  }
  return Status::ok();
}

int64_t grams_of(double kg) {
  return std::llround(kg * 1000.0);
}

double kg_of(int64_t grams) {
  return static_cast<double>(grams) / 1000.0;
}

Status validate_quantity(double kg) {
  if (!std::isfinite(kg) || kg <= 0) return invalid("quantity_kg must be a number greater than 0");
  if (kg > kMaxQuantityKg) return invalid("quantity_kg must be at most 100000");
  if (grams_of(kg) < 1) return invalid("quantity_kg must be at least 0.001 (one gram)");
  return Status::ok();
}

Status validate_expiry(TimePoint expires_at, TimePoint now) {
  if (expires_at <= now) return invalid("expiry must be in the future");
  if (expires_at - now > kMaxExpiryAhead) return invalid("expiry must be at most 7 days ahead");
  return Status::ok();
}

Status validate_capacity(double kg) {
  if (!std::isfinite(kg) || kg <= 0 || kg > 1e9) return invalid("capacity_kg must be a positive number");
  return Status::ok();
}

Status validate_webhook_url(const std::string& url) {
  const bool scheme_ok = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  if (!scheme_ok || url.size() > 2048 || url.size() < 10) {
    return invalid("webhook_url must be an http:// or https:// URL of at most 2048 bytes");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20) return invalid("webhook_url must not contain spaces or controls");
  }
  return Status::ok();
}

namespace {

bool private_v4(const unsigned char* a) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
         (a[0] == 169 && a[1] == 254) || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
         a[0] >= 224;  // multicast, reserved, broadcast
}

}  // namespace

bool is_private_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string h(host);
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (h == "localhost" || (h.size() > 10 && h.ends_with(".localhost"))) return true;
  unsigned char a[16];
  if (inet_pton(AF_INET, h.c_str(), a) == 1) return private_v4(a);
  if (inet_pton(AF_INET6, h.c_str(), a) != 1) return false;  // a name: checked when resolved
  static const unsigned char kZero[10] = {};
  if (std::memcmp(a, kZero, 10) == 0 && ((a[10] == 0xff && a[11] == 0xff) || (a[10] == 0 && a[11] == 0))) {
    if (a[10] == 0xff || a[12] || a[13] || a[14] || a[15] > 1) return private_v4(a + 12);  // mapped / compatible
    return true;                                                                           // :: and ::1
  }
  return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || a[0] == 0xff;
}

std::string url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace pahlawan

// Semantic checks of what clients send. The HTTP adapter checks JSON shape and types; these functions
// check meaning (ranges, windows, vocabularies) and say precisely what is wrong. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace pahlawan {

inline constexpr double kMaxQuantityKg = 100000.0;
inline constexpr Millis kMaxExpiryAhead = std::chrono::hours(24 * 7);
inline constexpr size_t kMaxTitleBytes = 200;
inline constexpr size_t kMaxNameBytes = 200;

Status validate_coordinates(double lat, double lon);
Status validate_name(const std::string& field, const std::string& value);
Status validate_category(const std::string& category);
// Quantities are kept exact to the gram: a posted quantity is rounded to whole grams (so sums such
// as the tonnes rescued and an NGO's 24-hour load never drift), and must come to at least 1 g.
int64_t grams_of(double kg);
double kg_of(int64_t grams);
Status validate_quantity(double kg);
Status validate_expiry(TimePoint expires_at, TimePoint now);
Status validate_capacity(double kg);
Status validate_webhook_url(const std::string& url);
// Server-side request forgery: a webhook URL must not make the server call into its own network.
// True for an IP literal (v4 or v6, "[...]" allowed) that is loopback, private (RFC 1918, fc00::/7),
// shared (100.64/10), link-local (169.254/16 — where cloud metadata services live — and fe80::/10),
// unspecified, multicast or broadcast, including IPv4-mapped IPv6 forms; also "localhost". Names are
// not resolved here: the sender checks the addresses a name resolves to at delivery time.
bool is_private_host(std::string_view host);
// The host part of an http(s) URL ("" if there is none).
std::string url_host(std::string_view url);

}  // namespace pahlawan

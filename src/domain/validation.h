// Semantic checks of what clients send. The HTTP adapter checks JSON shape and types; these functions
// check meaning (ranges, windows, vocabularies) and say precisely what is wrong. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
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

}  // namespace pahlawan

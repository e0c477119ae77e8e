#include "domain/surplus.h"

#include <algorithm>

#include "domain/geo.h"

namespace pahlawan {

const char* status_name(SurplusStatus s) {
  switch (s) {
    case SurplusStatus::kAvailable: return "available";
    case SurplusStatus::kClaimed: return "claimed";
    case SurplusStatus::kPickedUp: return "picked_up";
    case SurplusStatus::kExpired: return "expired";
    case SurplusStatus::kCancelled: return "cancelled";
  }
  return "available";
}

std::optional<SurplusStatus> parse_status(std::string_view s) {
  for (auto st : {SurplusStatus::kAvailable, SurplusStatus::kClaimed, SurplusStatus::kPickedUp, SurplusStatus::kExpired,
                  SurplusStatus::kCancelled}) {
    if (s == status_name(st)) return st;
  }
  return std::nullopt;
}

void keep_nearest(std::vector<Surplus>& items, double lat, double lon, double radius_m, int limit) {
  std::vector<std::pair<double, Surplus*>> near;
  for (auto& s : items) {
    const double d = haversine_m(lat, lon, s.lat, s.lon);
    if (d <= radius_m) near.emplace_back(d, &s);
  }
  std::sort(near.begin(), near.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second->id < b.second->id;
  });
  if (static_cast<int>(near.size()) > limit) near.resize(static_cast<size_t>(std::max(limit, 0)));
  std::vector<Surplus> out;
  out.reserve(near.size());
  for (auto& [d, s] : near) out.push_back(std::move(*s));
  items = std::move(out);
}

}  // namespace pahlawan

#include "domain/surplus.h"

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

}  // namespace pahlawan

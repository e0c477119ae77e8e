#include "domain/surplus_rules.h"

#include "domain/event.h"

namespace pahlawan {
namespace {

Decision changed(Surplus s, SurplusStatus to, const char* event) {
  s.status = to;
  s.version += 1;
  s.offer.reset();          // any pending offer ends with the item leaving "available"
  s.dead_lettered = false;  // and so does its place in the Geo-DLQ
  s.waiting_since.reset();  // or in the waiting line
  return Decision{std::move(s), true, event};
}

Status gone(const Surplus& s) {
  return {ErrorCode::kGone, std::string("surplus is ") + status_name(s.status)};
}

bool past_expiry(const Surplus& s, TimePoint now) {
  return now >= s.expires_at;
}

}  // namespace

Result<Decision> decide_claim(const Surplus& s, const std::string& ngo_id, TimePoint now,
                              std::optional<int64_t> if_match) {
  if (s.status == SurplusStatus::kClaimed) {
    if (s.claimed_by == ngo_id) return Decision{s, false, nullptr};
    return Status(ErrorCode::kAlreadyClaimed, "surplus was already claimed by another NGO");
  }
  if (s.status != SurplusStatus::kAvailable) return gone(s);
  if (past_expiry(s, now)) return Status(ErrorCode::kGone, "surplus is expired");
  if (if_match && *if_match != s.version) {
    return Status(ErrorCode::kConflict, "If-Match version " + std::to_string(*if_match) +
                                            " is not the current version " + std::to_string(s.version));
  }
  Decision d = changed(s, SurplusStatus::kClaimed, event_type::kClaimed);
  d.after.claimed_by = ngo_id;
  d.after.claimed_at = now;
  return d;
}

Result<Decision> decide_pickup(const Surplus& s, TimePoint now) {
  if (s.status == SurplusStatus::kPickedUp) return Decision{s, false, nullptr};
  if (s.status == SurplusStatus::kAvailable) {
    return Status(ErrorCode::kConflict, "surplus must be claimed before it is picked up");
  }
  if (s.status != SurplusStatus::kClaimed) return gone(s);
  Decision d = changed(s, SurplusStatus::kPickedUp, event_type::kPickedUp);
  d.after.picked_up_at = now;
  return d;
}

Result<Decision> decide_cancel(const Surplus& s, TimePoint /*now*/) {
  if (s.status == SurplusStatus::kCancelled) return Decision{s, false, nullptr};
  // A provider may withdraw food that turned out unsafe even after an NGO claimed it; the claimed
  // event stream tells the NGO. Food already handed over or expired cannot be withdrawn.
  if (!s.is_open()) return gone(s);
  return changed(s, SurplusStatus::kCancelled, event_type::kCancelled);
}

std::optional<Decision> decide_expire(const Surplus& s, TimePoint now) {
  if (s.status != SurplusStatus::kAvailable || !past_expiry(s, now)) return std::nullopt;
  return changed(s, SurplusStatus::kExpired, event_type::kExpired);
}

}  // namespace pahlawan

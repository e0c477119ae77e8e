// Event: one row of the transactional outbox, committed in the same transaction as the change it
// describes. `id` is unique and is the de-duplication key wherever the event travels.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace pahlawan {

namespace event_type {
inline constexpr const char* kPosted = "surplus.posted";
inline constexpr const char* kOffered = "surplus.offered";
inline constexpr const char* kClaimed = "surplus.claimed";
inline constexpr const char* kDeclined = "surplus.declined";
inline constexpr const char* kPickedUp = "surplus.picked_up";
inline constexpr const char* kExpired = "surplus.expired";
inline constexpr const char* kCancelled = "surplus.cancelled";
inline constexpr const char* kDeadLettered = "surplus.dead_lettered";
inline constexpr const char* kWaiting = "surplus.waiting";  // entered its region's waiting line
// The audit trail of admin actions (surplus_id empty; the payload names the party).
inline constexpr const char* kProviderRegistered = "admin.provider_registered";
inline constexpr const char* kNgoRegistered = "admin.ngo_registered";
inline constexpr const char* kTokenRotated = "admin.token_rotated";
inline constexpr const char* kTokenRevoked = "admin.token_revoked";
}  // namespace event_type

struct Event {
  std::string id;
  std::string type;
  std::string surplus_id;
  TimePoint occurred_at;
  std::string traceparent;  // W3C trace context of the request that caused it; may be empty
  std::string data_json;    // a JSON object, rendered by the app layer
  int64_t seq = 0;          // outbox position, assigned by the store at commit
  // The NGO a surplus.offered event is for (empty for other types): a field of its own, so that
  // routing an offer to its streams and webhook never parses the payload, and the store can index it.
  std::string recipient;
  // The token of the item's S2 region (kRegionLevel; empty for admin events): the bus puts it in
  // the subject, so a consumer can follow one region without reading every payload.
  std::string region;
};

}  // namespace pahlawan

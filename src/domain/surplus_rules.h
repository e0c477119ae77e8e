// The surplus state machine. Each function takes the current item and a request and returns the item
// after the change (version bumped), or the Status the client must see. `changed == false` means the
// request repeats one already applied (same NGO claiming again, cancelling twice): the caller answers
// with the current item and writes nothing. Pure functions, no clock reads: `now` is passed in.
#pragma once

#include <optional>
#include <string>

#include "common/status.h"
#include "domain/surplus.h"

namespace pahlawan {

struct Decision {
  Surplus after;
  bool changed = true;
  const char* event_type = nullptr;   // set when changed
  std::optional<OfferBudget> budget;  // an offer the matcher made within the NGO's limits
};

// A claim is first-come: whoever's claim the owning shard processes first wins.
Result<Decision> decide_claim(const Surplus& s, const std::string& ngo_id, TimePoint now,
                              std::optional<int64_t> if_match);
// Pickup by the claiming NGO or by the provider (the caller checks who may ask).
Result<Decision> decide_pickup(const Surplus& s, TimePoint now);
Result<Decision> decide_cancel(const Surplus& s, TimePoint now);
// Expiry of an item still available at its expires_at. Not an error when it no longer applies.
std::optional<Decision> decide_expire(const Surplus& s, TimePoint now);

}  // namespace pahlawan

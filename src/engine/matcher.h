// Matcher: decides the next step for an available item — an offer to the best eligible NGO, or the
// Geo-DLQ — following the contract's matching rules (domain/matching_rules.h).
//
// A match takes two steps, because ranking asks the road router and a shard actor must not wait on
// the network:
//   plan()   — candidates from the NgoDirectory (k nearest within the radius), filtered by
//              eligibility against the NgoLedger; no candidate (or too many attempts) is a Geo-DLQ
//              decision at once, otherwise a MatchPlan whose destinations go to the RouteEstimator;
//   choose() — once the travel times are in: rank, and reserve in the ledger in rank order; the first
//              NGO whose reservation succeeds gets the offer (the ledger re-checks capacity and the
//              notification cap under its lock, so loads that changed meanwhile are respected).
// The shard actor runs both on its mailbox and applies the Decision like any other change, so offers,
// claims and escalations of one item are serialized.
// Thread-safe (its collaborators are); called on shard mailboxes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "domain/matching_rules.h"
#include "domain/surplus_rules.h"
#include "engine/ngo_ledger.h"
#include "ports/ngo_directory.h"
#include "ports/route_estimator.h"

namespace pahlawan {

namespace dlq_reason {
inline constexpr const char* kNoEligibleNgo = "no_eligible_ngo";
inline constexpr const char* kMaxAttempts = "max_attempts";
inline constexpr const char* kWaitedTooLong = "waited_too_long";
}  // namespace dlq_reason

struct MatcherSettings {
  MatchPolicy policy;
  Millis ack_timeout = std::chrono::minutes(5);
  int candidates = 32;  // nearest NGOs considered per match
  // An item whose NGOs are all at their notification cap waits in line, but not past max_wait, nor
  // once its expiry is nearer than pickup_margin (a pickup is no longer realistic): then the Geo-DLQ.
  Millis max_wait = std::chrono::seconds(600);
  Millis pickup_margin = std::chrono::seconds(900);
  // Off: an item whose NGOs are all busy goes to the Geo-DLQ at once (no_eligible_ngo), as before the
  // line existed — the simulator's "greedy" baseline.
  bool wait_in_line = true;
};

// The eligible candidates of one match, waiting for their travel times.
struct MatchPlan {
  MatchPolicy policy;
  std::vector<std::shared_ptr<const Ngo>> eligible;
  std::vector<Candidate> candidates;   // parallel to eligible; travel_seconds not known yet
  std::vector<GeoPoint> destinations;  // parallel to eligible
};

class Matcher {
 public:
  Matcher(NgoDirectory& directory, NgoLedger& ledger, RouteEstimator& routes, const Clock& clock,
          MatcherSettings settings, MetricsRegistry* metrics = nullptr);

  const MatcherSettings& settings() const { return settings_; }

  RouteEstimator& routes() { return routes_; }

  // For an available item with no pending offer: the Geo-DLQ decision (`changed == false` when it is
  // already there), or the candidates to rank. `relaxed` replaces the policy (a DLQ retry), which also
  // allows one offer beyond max_attempts.
  std::variant<Decision, MatchPlan> plan(const Surplus& s, const MatchPolicy* relaxed = nullptr);
  // The offer to the best candidate of `plan` that still has room, or the Geo-DLQ. `times` is the
  // route estimator's answer for plan.destinations; without it the distance decides alone.
  Decision choose(const Surplus& s, const MatchPlan& plan, const RouteAnswer& times);

  // An operator's assignment: an offer to this NGO whatever the rules say.
  Decision offer_to(const Surplus& s, const Ngo& ngo);
  // The offer of `s` to this NGO if the rules let it take the item and the ledger reserves it (a batch
  // window's assignment, checked again in the item's actor); nullopt otherwise.
  std::optional<Decision> offer_if_room(const Surplus& s, const std::string& ngo_id);
  // When a waiting item must be matched again at the latest (to leave the line for the Geo-DLQ, unless
  // a slot frees first). REQUIRES: s.waiting_since.
  TimePoint wait_deadline(const Surplus& s) const;
  // A change of an item is durable. If it is the item's first match decision (an offer, the line or
  // the Geo-DLQ, the change right after the post), the time since the post goes to
  // surplus_first_decision_seconds: how long a posted item waits to be decided at all.
  void committed(const Surplus& after);

 private:
  // The decision with the room its offer needs at the NGO, for the store to check again.
  Decision budgeted(Decision d, const Ngo& ngo, int max_pending) const;
  Decision offer(const Surplus& s, const std::string& ngo_id);
  Decision dead_letter(const Surplus& s, const char* reason);
  // Every NGO that could take it is busy: the line, or the Geo-DLQ if it has waited long enough.
  Decision wait(const Surplus& s);

  NgoDirectory& directory_;
  NgoLedger& ledger_;
  RouteEstimator& routes_;
  const Clock& clock_;
  const MatcherSettings settings_;
  Counter* offers_ = nullptr;
  Counter* rematches_ = nullptr;
  Counter* dlq_no_ngo_ = nullptr;
  Counter* dlq_max_attempts_ = nullptr;
  Counter* dlq_waited_ = nullptr;
  Counter* waits_ = nullptr;
  Histogram* first_offered_ = nullptr;
  Histogram* first_waiting_ = nullptr;
  Histogram* first_dead_lettered_ = nullptr;
};

}  // namespace pahlawan

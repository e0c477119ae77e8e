// Matcher: decides the next step for an available item — an offer to the best eligible NGO, or the
// Geo-DLQ — following the contract's matching rules (domain/matching_rules.h).
//
// Candidates come from the NgoDirectory (k nearest within the radius), are filtered by eligibility
// against the NgoLedger, ranked by the RouteEstimator (travel time; the guarded estimator falls back
// to great-circle), and reserved in the ledger in rank order: the first NGO whose reservation
// succeeds gets the offer. The returned Decision is applied by the item's shard actor like any other
// change, so offers, claims and escalations of one item are serialized.
// Thread-safe (its collaborators are); called on shard mailboxes.
#pragma once

#include <string>

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
}  // namespace dlq_reason

struct MatcherSettings {
  MatchPolicy policy;
  Millis ack_timeout = std::chrono::minutes(5);
  int candidates = 32;  // nearest NGOs considered per match
};

class Matcher {
 public:
  Matcher(NgoDirectory& directory, NgoLedger& ledger, RouteEstimator& routes, const Clock& clock,
          MatcherSettings settings, MetricsRegistry* metrics = nullptr);

  const MatcherSettings& settings() const { return settings_; }

  // For an available item with no pending offer: an offer to the best eligible NGO, or the Geo-DLQ
  // (`changed == false` when it is already there). `relaxed` replaces the policy (a DLQ retry), which
  // also allows one offer beyond max_attempts.
  Decision next_step(const Surplus& s, const MatchPolicy* relaxed = nullptr);
  // An operator's assignment: an offer to this NGO whatever the rules say.
  Decision offer_to(const Surplus& s, const Ngo& ngo);

 private:
  Decision offer(const Surplus& s, const std::string& ngo_id);
  Decision dead_letter(const Surplus& s, const char* reason);

  NgoDirectory& directory_;
  NgoLedger& ledger_;
  RouteEstimator& routes_;
  const Clock& clock_;
  const MatcherSettings settings_;
  Counter* offers_ = nullptr;
  Counter* dlq_no_ngo_ = nullptr;
  Counter* dlq_max_attempts_ = nullptr;
};

}  // namespace pahlawan

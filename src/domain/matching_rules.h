// The matching rules of the contract ("Matching rules" in api-v1.md), as pure functions: which NGOs
// may be offered an item, and how the remaining candidates are ordered. The matcher (engine) supplies
// the NGOs near the item, their current load, and travel times; these functions decide.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "domain/party.h"
#include "domain/surplus.h"

namespace pahlawan {

struct MatchPolicy {
  double radius_m = 10000;
  int max_pending_offers = 3;
  int max_attempts = 5;
  // Relaxations an operator may choose when retrying from the Geo-DLQ.
  bool include_food_banks = false;
  bool ignore_categories = false;
};

// What the platform has already promised an NGO.
struct NgoLoad {
  double committed_kg_24h = 0;  // claimed or offered kg in the rolling 24 hours
  int pending_offers = 0;
};

enum class Ineligible {
  kFoodBank,         // kind food_bank, and the policy does not include them
  kCategory,         // does not accept the item's category
  kCapacity,         // not enough capacity left in the rolling 24 hours
  kNotificationCap,  // already holds max_pending_offers offers
  kAlreadyOffered,   // was offered this item before
  kOutOfRange,       // farther than radius_m
};

const char* ineligible_name(Ineligible why);

// nullopt: the NGO may be offered the item.
std::optional<Ineligible> check_eligibility(const Ngo& ngo, const NgoLoad& load, const Surplus& item, double distance_m,
                                            const std::set<std::string>& offered_before, const MatchPolicy& policy);

struct Candidate {
  std::string ngo_id;
  double travel_seconds = 0;  // from the routing service, or great-circle distance / speed
  double distance_m = 0;
};

// Best first: shortest travel time, then shortest distance, then id (so ties are decided the same
// way on every replica).
void rank_candidates(std::vector<Candidate>& candidates);

}  // namespace pahlawan

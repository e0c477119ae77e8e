#include "domain/matching_rules.h"

#include "domain/validation.h"

#include <algorithm>
#include <tuple>

namespace pahlawan {

const char* ineligible_name(Ineligible why) {
  switch (why) {
    case Ineligible::kFoodBank: return "food_bank";
    case Ineligible::kCategory: return "category";
    case Ineligible::kCapacity: return "capacity";
    case Ineligible::kNotificationCap: return "notification_cap";
    case Ineligible::kAlreadyOffered: return "already_offered";
    case Ineligible::kOutOfRange: return "out_of_range";
  }
  return "unknown";
}

std::optional<Ineligible> check_eligibility(const Ngo& ngo, const NgoLoad& load, const Surplus& item, double distance_m,
                                            const std::set<std::string>& offered_before, const MatchPolicy& policy) {
  if (distance_m > policy.radius_m) return Ineligible::kOutOfRange;
  if (ngo.kind == NgoKind::kFoodBank && !policy.include_food_banks) return Ineligible::kFoodBank;
  if (offered_before.count(ngo.id)) return Ineligible::kAlreadyOffered;
  if (!policy.ignore_categories && !ngo.categories.empty() &&
      std::find(ngo.categories.begin(), ngo.categories.end(), item.category) == ngo.categories.end()) {
    return Ineligible::kCategory;
  }
  // In whole grams: 0.1 + 0.2 kg must fit a 0.3 kg capacity.
  if (ngo.capacity_kg && grams_of(load.committed_kg_24h) + grams_of(item.quantity_kg) > grams_of(*ngo.capacity_kg)) {
    return Ineligible::kCapacity;
  }
  if (load.pending_offers >= policy.max_pending_offers) return Ineligible::kNotificationCap;
  return std::nullopt;
}

void rank_candidates(std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return std::tie(a.travel_seconds, a.distance_m, a.ngo_id) < std::tie(b.travel_seconds, b.distance_m, b.ngo_id);
  });
}

}  // namespace pahlawan

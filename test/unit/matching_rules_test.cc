#include "domain/matching_rules.h"

#include <gtest/gtest.h>

namespace pahlawan {
namespace {

Ngo shelter() {
  Ngo n;
  n.id = "ngo-1";
  n.kind = NgoKind::kNgo;
  return n;
}

Surplus rice(double kg = 10) {
  Surplus s;
  s.id = "s1";
  s.category = "prepared_meal";
  s.quantity_kg = kg;
  return s;
}

TEST(MatchingRules, AnOpenNgoNearbyIsEligible) {
  EXPECT_FALSE(check_eligibility(shelter(), {}, rice(), 500, {}, MatchPolicy{}).has_value());
}

TEST(MatchingRules, EachRuleRefusesOnItsOwn) {
  MatchPolicy policy;
  EXPECT_EQ(check_eligibility(shelter(), {}, rice(), 10001, {}, policy), Ineligible::kOutOfRange);

  Ngo bank = shelter();
  bank.kind = NgoKind::kFoodBank;
  EXPECT_EQ(check_eligibility(bank, {}, rice(), 10, {}, policy), Ineligible::kFoodBank);
  MatchPolicy relaxed = policy;
  relaxed.include_food_banks = true;
  EXPECT_FALSE(check_eligibility(bank, {}, rice(), 10, {}, relaxed).has_value());

  Ngo bakery_only = shelter();
  bakery_only.categories = {"bakery"};
  EXPECT_EQ(check_eligibility(bakery_only, {}, rice(), 10, {}, policy), Ineligible::kCategory);
  relaxed = policy;
  relaxed.ignore_categories = true;
  EXPECT_FALSE(check_eligibility(bakery_only, {}, rice(), 10, {}, relaxed).has_value());

  Ngo small = shelter();
  small.capacity_kg = 50;
  EXPECT_FALSE(check_eligibility(small, NgoLoad{40, 0}, rice(10), 10, {}, policy).has_value());  // exactly full
  EXPECT_EQ(check_eligibility(small, NgoLoad{40.5, 0}, rice(10), 10, {}, policy), Ineligible::kCapacity);

  EXPECT_EQ(check_eligibility(shelter(), NgoLoad{0, 3}, rice(), 10, {}, policy), Ineligible::kNotificationCap);
  EXPECT_FALSE(check_eligibility(shelter(), NgoLoad{0, 2}, rice(), 10, {}, policy).has_value());

  EXPECT_EQ(check_eligibility(shelter(), {}, rice(), 10, {"ngo-1"}, policy), Ineligible::kAlreadyOffered);
}

TEST(MatchingRules, RankingIsByTravelTimeThenDistanceThenId) {
  std::vector<Candidate> c = {{"c", 300, 900}, {"a", 120, 2000}, {"b", 120, 1500}, {"d", 120, 1500}};
  rank_candidates(c);
  EXPECT_EQ(c[0].ngo_id, "b");
  EXPECT_EQ(c[1].ngo_id, "d");
  EXPECT_EQ(c[2].ngo_id, "a");
  EXPECT_EQ(c[3].ngo_id, "c");
}

}  // namespace
}  // namespace pahlawan

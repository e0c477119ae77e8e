#include "domain/surplus_rules.h"

#include <gtest/gtest.h>

#include "domain/event.h"

namespace pahlawan {
namespace {

const TimePoint kNow = from_unix_ms(1'795'000'000'000);

Surplus available() {
  Surplus s;
  s.id = "s1";
  s.provider_id = "p1";
  s.quantity_kg = 10;
  s.created_at = kNow;
  s.expires_at = kNow + std::chrono::hours(1);
  return s;
}

TEST(SurplusRules, ClaimMovesAvailableToClaimedAndBumpsVersion) {
  auto d = decide_claim(available(), "ngo1", kNow, std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->changed);
  EXPECT_EQ(d->after.status, SurplusStatus::kClaimed);
  EXPECT_EQ(d->after.version, 2);
  EXPECT_EQ(d->after.claimed_by, "ngo1");
  EXPECT_EQ(d->after.claimed_at, kNow);
  EXPECT_STREQ(d->event_type, event_type::kClaimed);
}

TEST(SurplusRules, SecondClaimByAnotherNgoIsAlreadyClaimed) {
  auto first = decide_claim(available(), "ngo1", kNow, std::nullopt);
  auto second = decide_claim(first->after, "ngo2", kNow, std::nullopt);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().code(), ErrorCode::kAlreadyClaimed);
}

TEST(SurplusRules, RepeatedClaimBySameNgoChangesNothing) {
  auto first = decide_claim(available(), "ngo1", kNow, std::nullopt);
  auto again = decide_claim(first->after, "ngo1", kNow, std::nullopt);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->after.version, 2);
}

TEST(SurplusRules, ClaimWithStaleIfMatchIsConflict) {
  auto d = decide_claim(available(), "ngo1", kNow, 7);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.status().code(), ErrorCode::kConflict);
  EXPECT_TRUE(decide_claim(available(), "ngo1", kNow, 1));
}

TEST(SurplusRules, ClaimAtOrAfterExpiryIsGone) {
  Surplus s = available();
  auto d = decide_claim(s, "ngo1", s.expires_at, std::nullopt);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.status().code(), ErrorCode::kGone);
}

TEST(SurplusRules, ClaimOfFinishedItemsIsGone) {
  for (auto st : {SurplusStatus::kCancelled, SurplusStatus::kExpired, SurplusStatus::kPickedUp}) {
    Surplus s = available();
    s.status = st;
    auto d = decide_claim(s, "ngo1", kNow, std::nullopt);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.status().code(), ErrorCode::kGone) << status_name(st);
  }
}

TEST(SurplusRules, ClaimClearsOfferAndDeadLetter) {
  Surplus s = available();
  s.offer = Offer{"ngo9", kNow, 1};
  s.dead_lettered = true;
  auto d = decide_claim(s, "ngo1", kNow, std::nullopt);
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->after.offer.has_value());
  EXPECT_FALSE(d->after.dead_lettered);
}

TEST(SurplusRules, PickupNeedsAClaim) {
  auto d = decide_pickup(available(), kNow);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.status().code(), ErrorCode::kConflict);
  auto claimed = decide_claim(available(), "ngo1", kNow, std::nullopt);
  auto picked = decide_pickup(claimed->after, kNow);
  ASSERT_TRUE(picked);
  EXPECT_EQ(picked->after.status, SurplusStatus::kPickedUp);
  EXPECT_EQ(picked->after.picked_up_at, kNow);
  EXPECT_EQ(picked->after.version, 3);
  auto again = decide_pickup(picked->after, kNow);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
}

TEST(SurplusRules, CancelOpenItemsOnlyAndIsIdempotent) {
  auto c = decide_cancel(available(), kNow);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->after.status, SurplusStatus::kCancelled);
  auto again = decide_cancel(c->after, kNow);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  Surplus expired = available();
  expired.status = SurplusStatus::kExpired;
  auto gone = decide_cancel(expired, kNow);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.status().code(), ErrorCode::kGone);
}

TEST(SurplusRules, ExpireOnlyAvailableItemsPastTheirTime) {
  Surplus s = available();
  EXPECT_FALSE(decide_expire(s, kNow).has_value());
  auto e = decide_expire(s, s.expires_at);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->after.status, SurplusStatus::kExpired);
  auto claimed = decide_claim(s, "ngo1", kNow, std::nullopt);
  EXPECT_FALSE(decide_expire(claimed->after, s.expires_at + Millis(1)).has_value());
}

}  // namespace
}  // namespace pahlawan

// The matching engine end to end inside the process: shard actors, matcher, ledger and deadlines,
// with the in-memory store, a manual executor and a fake clock (no sleeps). Two or more cells take
// part in every test that posts more than one item.
#include "matching_fixture.h"

namespace pahlawan {
namespace {

TEST_F(MatchingTest, OfferGoesToTheNearestEligibleNgo) {
  add_ngo("bakery-only", kLat, kLon + 0.001, NgoKind::kNgo, {"bakery"});  // nearest, wrong category
  add_ngo("bank", kLat, kLon + 0.002, NgoKind::kFoodBank);                // food banks only on retry
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("far", kLat, kLon + 0.03);
  Surplus s = post(kLat, kLon);
  Surplus now = get(s.id);
  ASSERT_TRUE(now.offer);
  EXPECT_EQ(now.offer->ngo_id, "near");
  EXPECT_EQ(now.offer->attempt, 1);
  EXPECT_EQ(now.offer->deadline, clock.now() + std::chrono::seconds(300));
  EXPECT_EQ(now.version, 2);
  EXPECT_EQ(event_types(s.id), (std::vector<std::string>{"surplus.posted", "surplus.offered"}));
  auto offers = service.offers(Principal{Role::kNgo, "near"});
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 1u);
  EXPECT_EQ((*offers)[0].id, s.id);
  EXPECT_TRUE(service.offers(Principal{Role::kNgo, "far"})->empty());
  // A replayed posted event (relay restart) does not offer twice.
  for (const auto& e : store.events()) trigger.on_event(e);
  settle();
  EXPECT_EQ(get(s.id).version, 2);
}

TEST_F(MatchingTest, TravelTimeFromTheRouterOutranksDistance) {
  add_ngo("near-across-the-river", kLat, kLon + 0.01);
  add_ngo("far-on-the-toll-road", kLat, kLon + 0.03);
  routes.seconds_by_lon = [](double lon) { return lon > kLon + 0.02 ? 300.0 : 1800.0; };
  Surplus s = post(kLat, kLon);
  ASSERT_TRUE(get(s.id).offer);
  EXPECT_EQ(get(s.id).offer->ngo_id, "far-on-the-toll-road");
  EXPECT_EQ(routes.calls, 1);  // one request ranks every candidate
}

TEST_F(MatchingTest, ItemClaimedWhileTheRouterIsAskedIsNotOffered) {
  add_ngo("near", kLat, kLon + 0.01);
  routes.hold = true;
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(routes.held.size(), 1u);  // the actor is not waiting: the posted item is answered
  EXPECT_FALSE(get(s.id).offer);
  auto claimed = act([&](SurplusReply r) {
    service.claim(Principal{Role::kNgo, "browser"}, s.id, std::nullopt, "", std::move(r));
  });
  ASSERT_TRUE(claimed);
  routes.held[0](std::vector<RouteEstimate>{RouteEstimate{60, 1000}});
  settle();
  Surplus now = get(s.id);
  EXPECT_EQ(now.status, SurplusStatus::kClaimed);
  EXPECT_FALSE(now.offer);
  EXPECT_EQ(event_types(s.id), (std::vector<std::string>{"surplus.posted", "surplus.claimed"}));
  EXPECT_EQ(ledger.load("near").pending_offers, 0);  // nothing reserved for an offer never made
}

TEST_F(MatchingTest, LateRouterAnswerStillOffersAnUnchangedItem) {
  add_ngo("near", kLat, kLon + 0.01);
  routes.hold = true;
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(routes.held.size(), 1u);
  clock.advance(std::chrono::seconds(2));
  routes.held[0](Status(ErrorCode::kUnavailable, "router down"));  // no times: distance decides
  settle();
  Surplus now = get(s.id);
  ASSERT_TRUE(now.offer);
  EXPECT_EQ(now.offer->ngo_id, "near");
  EXPECT_EQ(now.offer->deadline, clock.now() + std::chrono::seconds(300));  // from the offer, not the post
}

TEST_F(MatchingTest, FailedOfferCommitReservesNothingAndIsRetried) {
  add_ngo("near", kLat, kLon + 0.01);
  routes.hold = true;
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(routes.held.size(), 1u);
  store.fail_next(Status(ErrorCode::kUnavailable, "disk full"));
  routes.held[0](std::vector<RouteEstimate>{RouteEstimate{60, 1000}});
  settle();
  EXPECT_FALSE(get(s.id).offer);
  EXPECT_EQ(ledger.load("near").pending_offers, 0);  // the reservation went with the failed offer
  EXPECT_EQ(ledger.load("near").committed_kg_24h, 0);
  // The match is tried again a second later, and this time the store takes it.
  routes.hold = false;
  pass(std::chrono::seconds(1));
  ASSERT_TRUE(get(s.id).offer);
  EXPECT_EQ(get(s.id).offer->ngo_id, "near");
  EXPECT_EQ(ledger.load("near").pending_offers, 1);
}

TEST_F(MatchingTest, FailedEscalationKeepsTheOfferAndIsRetried) {
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("far", kLat, kLon + 0.03);
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(get(s.id).offer->ngo_id, "near");
  clock.advance(std::chrono::seconds(300));
  store.fail_next(Status(ErrorCode::kUnavailable, "disk full"));
  expiry.run_due();
  settle();
  EXPECT_EQ(get(s.id).offer->ngo_id, "near");  // the store still says so
  EXPECT_EQ(ledger.load("near").pending_offers, 1);
  EXPECT_EQ(ledger.load("far").pending_offers, 0);
  // The escalation is queued again a second later, and goes through once the store does.
  pass(std::chrono::seconds(1));
  ASSERT_TRUE(get(s.id).offer);
  EXPECT_EQ(get(s.id).offer->ngo_id, "far");
  EXPECT_EQ(ledger.load("near").pending_offers, 0);
  EXPECT_EQ(ledger.load("far").pending_offers, 1);
}

TEST_F(MatchingTest, TwoFailedWritesInARowLeaveTheLedgerAsTheStoreSays) {
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("far", kLat, kLon + 0.03);
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(get(s.id).offer->ngo_id, "near");
  // The escalation to "far" and far's decline are both decided before either commits...
  store.hold(true);
  clock.advance(std::chrono::seconds(300));
  expiry.run_due();
  pool.run_all();
  std::optional<Result<Surplus>> declined;
  service.decline(Principal{Role::kNgo, "far"}, s.id, "", [&](Result<Surplus> r) { declined = std::move(r); });
  pool.run_all();
  // ...then the first fails, and the second with it (its version is stale).
  store.fail_next(Status(ErrorCode::kUnavailable, "disk full"));
  store.hold(false);
  settle();
  ASSERT_TRUE(declined.has_value());
  EXPECT_FALSE(*declined);
  EXPECT_EQ(get(s.id).offer->ngo_id, "near");  // the store's word
  EXPECT_EQ(ledger.load("near").pending_offers, 1);
  EXPECT_EQ(ledger.load("far").pending_offers, 0);
}

TEST_F(MatchingTest, AClaimWhoseWriteFailsDoesNotCountAgainstTheClaimer) {
  add_ngo("near", kLat, kLon + 0.01);
  Surplus s = post(kLat, kLon, 10);
  store.fail_next(Status(ErrorCode::kUnavailable, "disk full"));
  auto failed = act([&](SurplusReply r) {
    service.claim(Principal{Role::kNgo, "near"}, s.id, std::nullopt, "", std::move(r));
  });
  ASSERT_FALSE(failed);
  EXPECT_EQ(ledger.load("near").committed_kg_24h, 10);  // the offer it still holds, not the claim as well
  EXPECT_EQ(ledger.load("near").pending_offers, 1);
  auto claimed = act([&](SurplusReply r) {
    service.claim(Principal{Role::kNgo, "near"}, s.id, std::nullopt, "", std::move(r));
  });
  ASSERT_TRUE(claimed);
  EXPECT_EQ(ledger.load("near").committed_kg_24h, 10);  // now the claim alone
  EXPECT_EQ(ledger.load("near").pending_offers, 0);
}

TEST_F(MatchingTest, TimeoutEscalatesToTheNextNgoThenTheDlq) {
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("far", kLat, kLon + 0.03);
  Surplus s = post(kLat, kLon);
  pass(std::chrono::seconds(299));
  EXPECT_EQ(get(s.id).offer->ngo_id, "near");  // not yet
  pass(std::chrono::seconds(1));
  Surplus second = get(s.id);
  ASSERT_TRUE(second.offer);
  EXPECT_EQ(second.offer->ngo_id, "far");
  EXPECT_EQ(second.offer->attempt, 2);
  EXPECT_EQ(ledger.load("near").pending_offers, 0);  // the lapsed offer no longer counts
  EXPECT_EQ(ledger.load("far").pending_offers, 1);
  pass(std::chrono::seconds(300));
  Surplus dead = get(s.id);
  EXPECT_TRUE(dead.dead_lettered);
  EXPECT_FALSE(dead.offer);
  EXPECT_EQ(dead.dlq_reason, "no_eligible_ngo");      // both were offered already
  EXPECT_EQ(dead.status, SurplusStatus::kAvailable);  // still claimable by browsing
  auto dlq = service.dead_letters(kAdmin, std::nullopt);
  ASSERT_EQ(dlq->items.size(), 1u);
  // Claiming takes it out of the DLQ.
  auto claimed = act([&](SurplusReply r) {
    service.claim(Principal{Role::kNgo, "far"}, s.id, std::nullopt, "", std::move(r));
  });
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(claimed->dead_lettered);
  EXPECT_TRUE(service.dead_letters(kAdmin, std::nullopt)->items.empty());
}

TEST_F(MatchingTest, DeclineReMatchesAtOnceExcludingTheDecliner) {
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("mid", kLat, kLon + 0.02);
  Surplus s = post(kLat, kLon);
  auto refused = act([&](SurplusReply r) { service.decline(Principal{Role::kNgo, "mid"}, s.id, "", std::move(r)); });
  EXPECT_EQ(refused.status().code(), ErrorCode::kForbidden);  // not the NGO holding the offer
  auto declined = act([&](SurplusReply r) { service.decline(Principal{Role::kNgo, "near"}, s.id, "", std::move(r)); });
  ASSERT_TRUE(declined);
  Surplus now = get(s.id);
  ASSERT_TRUE(now.offer);
  EXPECT_EQ(now.offer->ngo_id, "mid");
  EXPECT_EQ(now.offer->attempt, 2);
  EXPECT_EQ(event_types(s.id),
            (std::vector<std::string>{"surplus.posted", "surplus.offered", "surplus.declined", "surplus.offered"}));
}

TEST_F(MatchingTest, NoEligibleNgoGoesToTheDlqAndRetryOrAssignRescuesIt) {
  add_ngo("bank", kLat, kLon + 0.01, NgoKind::kFoodBank);
  add_ngo("far-away", kLat, kLon + 0.5);  // ~55 km: beyond the 10 km radius
  Surplus s = post(kLat, kLon);
  Surplus dead = get(s.id);
  EXPECT_TRUE(dead.dead_lettered);
  EXPECT_EQ(dead.dlq_reason, "no_eligible_ngo");
  EXPECT_EQ(service.dead_letters(kAdmin, std::string("no-such-region"))->items.size(), 0u);
  EXPECT_EQ(service.dead_letters(kAdmin, dlq_region(dead))->items.size(), 1u);
  auto retried = act([&](SurplusReply r) {
    service.retry(kAdmin, s.id, SurplusService::Relaxation{std::nullopt, true, false}, "", std::move(r));
  });
  ASSERT_TRUE(retried) << retried.status().message();
  ASSERT_TRUE(retried->offer);
  EXPECT_EQ(retried->offer->ngo_id, "bank");
  EXPECT_FALSE(retried->dead_lettered);
  // It lapses and returns to the DLQ; then the operator assigns it to a named NGO.
  pass(std::chrono::seconds(300));
  EXPECT_TRUE(get(s.id).dead_lettered);
  auto assigned = act([&](SurplusReply r) { service.assign(kAdmin, s.id, "far-away", "", std::move(r)); });
  ASSERT_TRUE(assigned);
  EXPECT_EQ(assigned->offer->ngo_id, "far-away");
  auto unknown = act([&](SurplusReply r) { service.assign(kAdmin, s.id, "nobody", "", std::move(r)); });
  EXPECT_EQ(unknown.status().code(), ErrorCode::kNotFound);
  auto not_in_dlq = act([&](SurplusReply r) { service.assign(kAdmin, s.id, "bank", "", std::move(r)); });
  EXPECT_EQ(not_in_dlq.status().code(), ErrorCode::kNotFound);
}

TEST_F(MatchingTest, TheFirstDecisionIsTimedFromThePostToItsCommit) {
  auto first = [&](const char* outcome) -> Histogram& {
    return metrics.histogram("surplus_first_decision_seconds", "", {}, std::string("outcome=\"") + outcome + "\"");
  };
  add_ngo("near", kLat, kLon + 0.01);
  // The post commits; its match decision commits two seconds later.
  PostSurplusRequest req;
  req.title = "Nasi";
  req.category = "prepared_meal";
  req.quantity_kg = 10;
  req.ttl_seconds = 6 * 3600;
  req.lat = kLat;
  req.lon = kLon;
  std::optional<Result<PostOutcome>> posted;
  service.post(kProvider, req, "", [&](Result<PostOutcome> r) { posted = std::move(r); });
  pool.run_all();
  store.release();
  pool.run_all();
  ASSERT_TRUE(posted && *posted);
  clock.advance(std::chrono::seconds(2));
  settle();
  ASSERT_TRUE(get((*posted)->surplus.id).offer);
  EXPECT_EQ(first("offered").count(), 1u);
  EXPECT_DOUBLE_EQ(first("offered").sum(), 2.0);
  // The Geo-DLQ after a decline (no other NGO) is not a first decision.
  ASSERT_TRUE(act([&](SurplusReply r) {
    service.decline(Principal{Role::kNgo, "near"}, (*posted)->surplus.id, "", std::move(r));
  }));
  EXPECT_EQ(first("offered").count(), 1u);
  // "near" has its three slots free again: three of four new items are offered, the fourth waits;
  // one beyond every NGO's radius is dead-lettered.
  for (int i = 0; i < 4; ++i) post(kLat, kLon);
  EXPECT_EQ(first("offered").count(), 4u);
  EXPECT_EQ(first("waiting").count(), 1u);
  post(kLat + 1, kLon);
  EXPECT_EQ(first("dead_lettered").count(), 1u);
  EXPECT_EQ(first("waiting").count() + first("offered").count() + first("dead_lettered").count(), 6u);
}

TEST_F(MatchingTest, CapacityIsExactAcrossShards) {
  add_ngo("small", kLat, kLon + 0.01, NgoKind::kNgo, {}, 15.0);  // 15 kg per 24 h
  add_ngo("big", kLat, kLon + 0.04);
  Surplus a = post(kLat, kLon, 10);
  Surplus b = post(kLat - 0.02, kLon, 10);  // another cell, the same NGO nearest
  EXPECT_NE(a.cell, b.cell);
  EXPECT_EQ(get(a.id).offer->ngo_id, "small");
  EXPECT_EQ(get(b.id).offer->ngo_id, "big");  // 10 + 10 > 15
  EXPECT_DOUBLE_EQ(ledger.load("small").committed_kg_24h, 10);
}

TEST_F(MatchingTest, NotificationBudgetPassesOverAnNgoAtItsCap) {
  add_ngo("popular", kLat, kLon + 0.005);
  add_ngo("next", kLat, kLon + 0.03);
  std::vector<Surplus> items;
  for (int i = 0; i < 4; ++i) items.push_back(post(kLat + 0.001 * i, kLon));
  int popular = 0, next = 0;
  for (const auto& s : items) {
    const auto who = get(s.id).offer->ngo_id;
    popular += who == "popular";
    next += who == "next";
  }
  EXPECT_EQ(popular, 3);
  EXPECT_EQ(next, 1);
}

class MatchingMaxAttemptsTest : public MatchingTest {
 protected:
  MatchingMaxAttemptsTest() : MatchingTest(settings(2)) {}
};

TEST_F(MatchingMaxAttemptsTest, AfterMaxAttemptsTheItemIsDeadLettered) {
  for (int i = 0; i < 4; ++i) add_ngo("ngo-" + std::to_string(i), kLat, kLon + 0.01 * (i + 1));
  Surplus s = post(kLat, kLon);
  for (int i = 0; i < 2; ++i) {
    pass(std::chrono::seconds(300));
  }
  Surplus dead = get(s.id);
  EXPECT_TRUE(dead.dead_lettered);
  EXPECT_EQ(dead.dlq_reason, "max_attempts");
  EXPECT_EQ(dead.offered_to, (std::vector<std::string>{"ngo-0", "ngo-1"}));
}

TEST_F(MatchingTest, PendingDeadlinesSurviveARestartAndLapseAtStart) {
  add_ngo("near", kLat, kLon + 0.01);
  add_ngo("far", kLat, kLon + 0.03);
  Surplus s = post(kLat, kLon);
  ASSERT_EQ(get(s.id).offer->ngo_id, "near");
  // The process stops; it comes back after the deadline passed.
  clock.advance(std::chrono::minutes(10));
  S2HotGeoIndex index2;
  DeadlineQueue expiries2;
  ShardRouter router2(13, store, index2, expiries2, events, pool, clock);
  NgoLedger ledger2(clock);
  Matcher matcher2(ngos, ledger2, routes, clock, settings());
  router2.enable_matching(matcher2, ledger2);
  ExpiryScheduler expiry2(expiries2, router2, clock);
  ASSERT_TRUE(router2.load_open_items());
  EXPECT_EQ(ledger2.load("near").pending_offers, 1);  // the pending offer is counted again
  EXPECT_GE(expiry2.run_due(), 1u);
  settle();
  Surplus now = get(s.id);
  ASSERT_TRUE(now.offer);
  EXPECT_EQ(now.offer->ngo_id, "far");
  EXPECT_EQ(ledger2.load("near").pending_offers, 0);
}

}  // namespace
}  // namespace pahlawan

namespace pahlawan {
namespace {

// A Principal nobody authenticated holds no role: it fails closed everywhere, never acts as the admin.
TEST_F(MatchingTest, ADefaultPrincipalMayDoNothing) {
  const Principal nobody{};
  EXPECT_EQ(nobody.role, Role::kNone);
  auto dlq = service.dead_letters(nobody, std::nullopt);
  ASSERT_FALSE(dlq);
  EXPECT_EQ(dlq.status().code(), ErrorCode::kForbidden);
  auto browse = service.browse(nobody, BrowseRequest{kLat, kLon, 5000, 10, std::nullopt});
  ASSERT_FALSE(browse);
  EXPECT_EQ(browse.status().code(), ErrorCode::kForbidden);
}

}  // namespace
}  // namespace pahlawan

namespace pahlawan {
namespace {

// An NGO that stops taking food is never a candidate again; its claims must still age out.
TEST(NgoLedger, ClaimsOlderThanADayAreDroppedForEveryNgo) {
  testing::FakeClock clock;
  NgoLedger ledger(clock);
  for (int i = 0; i < 1000; ++i) {
    ledger.record_claim("ngo-" + std::to_string(i % 10), "item-" + std::to_string(i), 1.5, clock.now());
  }
  ledger.force_reserve("ngo-1", "pending-item", 2);
  EXPECT_EQ(ledger.items_held(), 1001u);
  clock.advance(std::chrono::hours(25));
  EXPECT_EQ(ledger.items_held(), 1u);  // only the pending offer, which a deadline will end
  ledger.release("pending-item");
  EXPECT_EQ(ledger.items_held(), 0u);
  EXPECT_EQ(ledger.load("ngo-3").committed_kg_24h, 0);
}

}  // namespace
}  // namespace pahlawan

// The waiting line: an item whose NGOs are all at their notification cap waits (not the Geo-DLQ) and
// is offered the moment a slot frees, most urgent first; it leaves for the Geo-DLQ after --max-wait
// or near its expiry; the line survives a restart. The in-process engine with a fake clock.
#include "engine/waiting_line.h"

#include "matching_fixture.h"

namespace pahlawan {
namespace {

// Offers wait an hour for an answer, so no offer lapses (and frees a slot) during a wait.
MatcherSettings waiting_settings() {
  MatcherSettings s = settings();
  s.ack_timeout = std::chrono::hours(1);
  return s;  // max_wait 600 s, pickup_margin 900 s: the defaults
}

class WaitingTest : public MatchingTest {
 protected:
  WaitingTest() : MatchingTest(waiting_settings()), line(ngos, ledger, matcher.settings().policy, clock) {
    router.enable_matching(matcher, ledger, &line);
    service.set_waiting_line(&line);
  }

  // "only" is the one NGO in range; three items fill its slots.
  std::vector<Surplus> fill_the_only_ngo() {
    add_ngo("only", kLat, kLon + 0.01);
    std::vector<Surplus> offered;
    for (int i = 0; i < 3; ++i) offered.push_back(post(kLat + 0.001 * i, kLon));
    for (const auto& s : offered) EXPECT_EQ(get(s.id).offer->ngo_id, "only");
    return offered;
  }

  void claim(const std::string& ngo, const std::string& id) {
    ASSERT_TRUE(act([&](SurplusReply r) {
      service.claim(Principal{Role::kNgo, ngo}, id, std::nullopt, "", std::move(r));
    }));
  }

  std::vector<std::string> line_ids() {
    std::vector<std::string> out;
    auto line_now = service.waiting(kAdmin, std::nullopt);  // kept: a range-for over *temporary would dangle
    for (const auto& s : *line_now) out.push_back(s.id);
    return out;
  }

  WaitingLine line;
};

TEST_F(WaitingTest, AnItemWaitsWhileEveryNgoIsBusyAndIsOfferedWhenASlotFrees) {
  auto offered = fill_the_only_ngo();
  clock.advance(std::chrono::seconds(1));
  Surplus w = post(kLat - 0.02, kLon);  // another cell, the same NGO in range
  Surplus waiting = get(w.id);
  EXPECT_FALSE(waiting.offer);
  EXPECT_FALSE(waiting.dead_lettered) << waiting.dlq_reason.value_or("");
  EXPECT_EQ(waiting.waiting_since, clock.now());
  EXPECT_EQ(event_types(w.id), (std::vector<std::string>{"surplus.posted", "surplus.waiting"}));
  EXPECT_EQ(line_ids(), std::vector<std::string>{w.id});
  EXPECT_NE(render_surplus(waiting).find("\"waiting_since\":\""), std::string::npos);

  pass(std::chrono::seconds(30));
  claim("only", offered[0].id);  // a slot frees
  Surplus now = get(w.id);
  ASSERT_TRUE(now.offer);
  EXPECT_EQ(now.offer->ngo_id, "only");
  EXPECT_FALSE(now.waiting_since);
  EXPECT_TRUE(line_ids().empty());
  EXPECT_EQ(ledger.load("only").pending_offers, 3);  // never over the cap
  EXPECT_EQ(event_types(w.id), (std::vector<std::string>{"surplus.posted", "surplus.waiting", "surplus.offered"}));
}

TEST_F(WaitingTest, TheMostUrgentItemIsOfferedFirst) {
  auto offered = fill_the_only_ngo();
  Surplus late = post(kLat - 0.02, kLon, 10, "prepared_meal", 5 * 3600);
  Surplus soon = post(kLat - 0.021, kLon, 10, "prepared_meal", 3 * 3600);
  clock.advance(std::chrono::seconds(1));
  Surplus soon_too = post(kLat - 0.022, kLon, 10, "prepared_meal", 3 * 3600 - 1);  // same expiry, posted later
  ASSERT_EQ(get(soon.id).expires_at, get(soon_too.id).expires_at);
  EXPECT_EQ(line_ids(), (std::vector<std::string>{soon.id, soon_too.id, late.id}));
  claim("only", offered[0].id);
  EXPECT_TRUE(get(soon.id).offer);
  EXPECT_FALSE(get(soon_too.id).offer);
  claim("only", offered[1].id);
  EXPECT_TRUE(get(soon_too.id).offer);
  EXPECT_FALSE(get(late.id).offer);
  EXPECT_EQ(line_ids(), std::vector<std::string>{late.id});
}

TEST_F(WaitingTest, AnItemThatWaitsTooLongGoesToTheDlq) {
  fill_the_only_ngo();
  Surplus w = post(kLat - 0.02, kLon);
  pass(std::chrono::seconds(599));
  EXPECT_FALSE(get(w.id).dead_lettered);
  pass(std::chrono::seconds(1));
  Surplus dead = get(w.id);
  EXPECT_TRUE(dead.dead_lettered);
  EXPECT_EQ(dead.dlq_reason, "waited_too_long");
  EXPECT_FALSE(dead.waiting_since);
  EXPECT_TRUE(line_ids().empty());
}

TEST_F(WaitingTest, AnItemTooCloseToItsExpiryForAPickupGoesToTheDlq) {
  fill_the_only_ngo();
  // Expires in 20 minutes: it may wait 5 of them (until 15 minutes are left), not the full 10.
  Surplus w = post(kLat - 0.02, kLon, 10, "prepared_meal", 1200);
  EXPECT_TRUE(get(w.id).waiting_since);
  pass(std::chrono::seconds(300));
  EXPECT_EQ(get(w.id).dlq_reason, "waited_too_long");
  // Expires in 10 minutes: less than the margin already, so it does not wait at all.
  Surplus urgent = post(kLat - 0.02, kLon, 10, "prepared_meal", 600);
  EXPECT_TRUE(get(urgent.id).dead_lettered);
  EXPECT_EQ(get(urgent.id).dlq_reason, "waited_too_long");
  EXPECT_FALSE(get(urgent.id).waiting_since);
}

TEST_F(WaitingTest, NoNgoThatCouldEverTakeItIsTheDlqAtOnceNotTheLine) {
  add_ngo("bakery-only", kLat, kLon + 0.01, NgoKind::kNgo, {"bakery"});
  add_ngo("tiny", kLat, kLon + 0.02, NgoKind::kNgo, {}, 5.0);
  Surplus s = post(kLat, kLon, 10);
  EXPECT_TRUE(get(s.id).dead_lettered);
  EXPECT_EQ(get(s.id).dlq_reason, "no_eligible_ngo");
  EXPECT_TRUE(line_ids().empty());
}

TEST_F(WaitingTest, ANewNgosFreeSlotsTakeWaitingItems) {
  fill_the_only_ngo();
  Surplus w = post(kLat - 0.02, kLon);
  ASSERT_TRUE(get(w.id).waiting_since);
  add_ngo("newcomer", kLat - 0.02, kLon + 0.01);
  line.slot_freed("newcomer");  // what the registry does for a new NGO (see server.cc)
  settle();
  ASSERT_TRUE(get(w.id).offer);
  EXPECT_EQ(get(w.id).offer->ngo_id, "newcomer");
}

TEST_F(WaitingTest, TheLineSurvivesARestart) {
  auto offered = fill_the_only_ngo();
  Surplus w = post(kLat - 0.02, kLon);
  Surplus v = post(kLat - 0.03, kLon);
  // The process stops and starts again on the same store.
  S2HotGeoIndex index2;
  DeadlineQueue expiries2;
  ShardRouter router2(13, store, index2, expiries2, events, pool, clock);
  NgoLedger ledger2(clock);
  Matcher matcher2(ngos, ledger2, routes, clock, waiting_settings());
  WaitingLine line2(ngos, ledger2, matcher2.settings().policy, clock);
  router2.enable_matching(matcher2, ledger2, &line2);
  ExpiryScheduler expiry2(expiries2, router2, clock);
  ASSERT_TRUE(router2.load_open_items());
  EXPECT_EQ(line2.size(), 2u);
  expiry2.run_due();  // the look at start: nothing freed, both still wait
  settle();
  EXPECT_EQ(line2.size(), 2u);
  EXPECT_EQ(get(w.id).version, 2);  // no new write for an item that goes on waiting
  ledger2.release(offered[0].id);   // the offer ends (a decline, say): its slot goes to the line
  settle();
  EXPECT_TRUE(get(w.id).offer);
  EXPECT_TRUE(get(v.id).waiting_since);
  EXPECT_EQ(line2.list(std::nullopt, 10).size(), 1u);
  // And the wait's end was re-armed: v goes to the DLQ 600 s after it began waiting.
  clock.advance(std::chrono::seconds(600));
  expiry2.run_due();
  settle();
  EXPECT_EQ(get(v.id).dlq_reason, "waited_too_long");
}

TEST_F(WaitingTest, OnlyTheAdminReadsTheLine) {
  auto r = service.waiting(Principal{Role::kNgo, "only"}, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), ErrorCode::kForbidden);
  EXPECT_FALSE(service.waiting(kAdmin, std::nullopt, 0));
}

}  // namespace
}  // namespace pahlawan

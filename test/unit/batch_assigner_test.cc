// Batch windows (--match-window): the assignment solver is optimal on small cases (checked against
// brute force), and the engine with a window assigns items together where greedy would not, never over
// an NGO's capacity or cap. The in-process engine with a fake clock.
#include "engine/batch_assigner.h"

#include <random>

#include "engine/assignment_solver.h"
#include "matching_fixture.h"

namespace pahlawan {
namespace {

// Every assignment of items to NGOs (or none), by brute force: most items first, then least cost.
std::pair<int, int64_t> brute_force(const std::vector<std::vector<AssignOption>>& options, std::vector<int> slots,
                                    size_t i = 0) {
  if (i == options.size()) return {0, 0};
  auto best = brute_force(options, slots, i + 1);  // item i left out
  for (const auto& o : options[i]) {
    if (slots[o.ngo] == 0) continue;
    --slots[o.ngo];
    auto [n, c] = brute_force(options, slots, i + 1);
    ++slots[o.ngo];
    if (n + 1 > best.first || (n + 1 == best.first && c + o.cost < best.second)) best = {n + 1, c + o.cost};
  }
  return best;
}

TEST(AssignmentSolver, IsOptimalOnSmallCasesAgainstBruteForce) {
  std::mt19937 rng(2026);
  for (int round = 0; round < 300; ++round) {
    const size_t items = 1 + rng() % 6, ngos = 1 + rng() % 3;
    std::vector<int> slots(ngos);
    for (auto& s : slots) s = static_cast<int>(rng() % 3);
    std::vector<std::vector<AssignOption>> options(items);
    for (auto& opts : options) {
      for (size_t n = 0; n < ngos; ++n) {
        if (rng() % 3) opts.push_back(AssignOption{n, static_cast<int64_t>(rng() % 5000)});
      }
    }
    const auto got = solve_assignment(options, slots);
    int n = 0;
    int64_t cost = 0;
    std::vector<int> used(ngos);
    for (size_t i = 0; i < items; ++i) {
      if (!got[i]) continue;
      ++n;
      ++used[*got[i]];
      const auto it =
          std::find_if(options[i].begin(), options[i].end(), [&](const AssignOption& o) { return o.ngo == *got[i]; });
      ASSERT_NE(it, options[i].end()) << "assigned where the item may not go";
      cost += it->cost;
    }
    for (size_t k = 0; k < ngos; ++k) EXPECT_LE(used[k], slots[k]);
    const auto best = brute_force(options, slots);
    EXPECT_EQ(n, best.first) << "round " << round;
    EXPECT_EQ(cost, best.second) << "round " << round;
  }
}

MatcherSettings one_slot() {
  MatcherSettings s = settings();
  s.policy.max_pending_offers = 1;
  s.ack_timeout = std::chrono::hours(1);
  return s;
}

class BatchTest : public MatchingTest {
 protected:
  BatchTest()
      : MatchingTest(one_slot()),
        line(ngos, ledger, matcher.settings().policy, clock),
        batch(std::chrono::seconds(2), ngos, ledger, &line, expiries, matcher.settings().policy, clock) {
    router.enable_matching(matcher, ledger, &line, &batch);
  }
  WaitingLine line;
  BatchAssigner batch;
};

// A is near both NGOs (a little nearer N1); B is in range of N1 only. Greedy gives A to N1 and B has
// to wait; the window gives A to N2 and B to N1: both offered at once.
TEST_F(BatchTest, AWindowAssignsTogetherWhatGreedyCouldNot) {
  add_ngo("n1", kLat, kLon + 0.03);
  add_ngo("n2", kLat, kLon - 0.035);
  Surplus a = post(kLat, kLon);
  Surplus b = post(kLat, kLon + 0.12);  // 13 km east of A: only n1 (10 km radius) reaches it
  EXPECT_FALSE(get(a.id).offer);        // still in the window
  EXPECT_FALSE(get(b.id).offer);
  pass(std::chrono::seconds(2));
  ASSERT_TRUE(get(a.id).offer);
  ASSERT_TRUE(get(b.id).offer);
  EXPECT_EQ(get(a.id).offer->ngo_id, "n2");
  EXPECT_EQ(get(b.id).offer->ngo_id, "n1");
  EXPECT_EQ(batch.batches(), 1u);
}

// Two 8 kg items, one NGO with 10 kg of capacity and slots for both: the solver may propose both, the
// ledger lets only one through; the other is matched greedily (here: the next NGO).
TEST_F(BatchTest, TheLedgerHasTheLastWordOnCapacity) {
  add_ngo("small", kLat, kLon + 0.01, NgoKind::kNgo, {}, 10.0);
  add_ngo("far", kLat, kLon + 0.06);
  Surplus a = post(kLat, kLon, 8);
  Surplus b = post(kLat + 0.001, kLon, 8);
  pass(std::chrono::seconds(2));
  ASSERT_TRUE(get(a.id).offer);
  ASSERT_TRUE(get(b.id).offer);
  EXPECT_NE(get(a.id).offer->ngo_id, get(b.id).offer->ngo_id);
  EXPECT_LE(ledger.load("small").committed_kg_24h, 10.0);
  EXPECT_LE(ledger.load("small").pending_offers, 1);
  EXPECT_LE(ledger.load("far").pending_offers, 1);
}

// Items nobody can take in the window wait, and a freed slot opens a window that offers them.
TEST_F(BatchTest, LeftoversWaitAndAFreedSlotsWindowOffersThem) {
  add_ngo("only", kLat, kLon + 0.01);
  Surplus a = post(kLat, kLon);
  Surplus b = post(kLat + 0.001, kLon);
  pass(std::chrono::seconds(2));
  const bool a_first = get(a.id).offer.has_value();
  const Surplus& offered = a_first ? a : b;
  const Surplus& waiting = a_first ? b : a;
  ASSERT_TRUE(get(offered.id).offer);
  EXPECT_TRUE(get(waiting.id).waiting_since);
  ASSERT_TRUE(act([&](SurplusReply r) {
    service.claim(Principal{Role::kNgo, "only"}, offered.id, std::nullopt, "", std::move(r));
  }));
  EXPECT_FALSE(get(waiting.id).offer);  // the slot opened a window...
  pass(std::chrono::seconds(2));
  ASSERT_TRUE(get(waiting.id).offer);  // ...which offered the waiting item
  EXPECT_EQ(get(waiting.id).offer->ngo_id, "only");
}

// A crash while items sit in a window loses the window, not the items: at start every available item
// that is neither offered, waiting nor dead-lettered is matched again.
TEST_F(BatchTest, ItemsInAWindowWhenTheProcessStopsAreMatchedAfterTheRestart) {
  add_ngo("n1", kLat, kLon + 0.01);
  Surplus a = post(kLat, kLon);
  ASSERT_FALSE(get(a.id).offer);
  S2HotGeoIndex index2;
  DeadlineQueue expiries2;
  ShardRouter router2(13, store, index2, expiries2, events, pool, clock);
  NgoLedger ledger2(clock);
  Matcher matcher2(ngos, ledger2, routes, clock, one_slot());
  router2.enable_matching(matcher2, ledger2);
  ExpiryScheduler expiry2(expiries2, router2, clock);
  ASSERT_TRUE(router2.load_open_items());
  expiry2.run_due();
  settle();
  ASSERT_TRUE(get(a.id).offer);
  EXPECT_EQ(get(a.id).offer->ngo_id, "n1");
}

}  // namespace
}  // namespace pahlawan

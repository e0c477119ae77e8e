// Shard actors with the in-memory store, a manual executor and a fake clock: every interleaving
// below is chosen by the test, and at least two shards (cells) take part.
#include <gtest/gtest.h>

#include "adapters/geo/s2_hot_geo_index.h"
#include "app/json_event_factory.h"
#include "app/surplus_service.h"
#include "domain/geo.h"
#include "engine/expiry_scheduler.h"
#include "engine/shard_router.h"
#include "fake_clock.h"
#include "in_memory_store.h"
#include "manual_executor.h"

namespace pahlawan {
namespace {

using testing::FakeClock;
using testing::InMemoryStore;
using testing::ManualExecutor;

constexpr int kLevel = 13;
const Principal kProvider{Role::kProvider, "prov-1"};
const Principal kOtherProvider{Role::kProvider, "prov-2"};
Principal ngo(int i) {
  return Principal{Role::kNgo, "ngo-" + std::to_string(i)};
}

class ShardActorTest : public ::testing::Test {
 protected:
  ShardActorTest()
      : ids(clock),
        events(ids, clock),
        router(kLevel, store, index, expiries, events, pool, clock, std::chrono::hours(2)),
        expiry(expiries, router, clock),
        service(router, store, index, ids, clock) {}

  // Posts an item at (lat, lon) and runs the system until it is stored.
  Surplus post(double lat, double lon, int ttl_s = 3600) {
    PostSurplusRequest req;
    req.title = "Nasi kotak";
    req.category = "prepared_meal";
    req.quantity_kg = 12;
    req.ttl_seconds = ttl_s;
    req.lat = lat;
    req.lon = lon;
    std::optional<Result<PostOutcome>> out;
    service.post(kProvider, req, "", [&](Result<PostOutcome> r) { out = std::move(r); });
    settle();
    EXPECT_TRUE(out && *out);
    return (*out)->surplus;
  }

  void settle() {
    while (pool.run_all() + store.release() > 0) {
    }
  }

  FakeClock clock;
  InMemoryStore store;
  S2HotGeoIndex index;
  DeadlineQueue expiries;
  ManualExecutor pool;
  IdGenerator ids;
  JsonEventFactory events;
  ShardRouter router;
  ExpiryScheduler expiry;
  SurplusService service;
};

TEST_F(ShardActorTest, ItemsInDifferentCellsLiveInDifferentActors) {
  Surplus a = post(-6.2, 106.8);
  Surplus b = post(-6.3, 106.9);
  EXPECT_NE(a.cell, b.cell);
  EXPECT_EQ(a.cell, cell_id_at(-6.2, 106.8, kLevel));
  EXPECT_EQ(router.actor_count(), 2u);
  EXPECT_EQ(index.size(), 2u);
  ASSERT_EQ(store.events().size(), 2u);
  EXPECT_EQ(store.events()[0].type, "surplus.posted");
}

TEST_F(ShardActorTest, ManyNgosRacingForOneItemExactlyOneWins) {
  Surplus s = post(-6.2, 106.8);
  store.hold(true);
  std::vector<std::optional<Result<Surplus>>> results(20);
  for (int i = 0; i < 20; ++i) {
    service.claim(ngo(i), s.id, std::nullopt, "", [&, i](Result<Surplus> r) { results[i] = std::move(r); });
  }
  pool.run_all();
  // While the winning claim is not yet durable nobody has been answered, not even the losers.
  for (const auto& r : results) EXPECT_FALSE(r.has_value());
  settle();
  int won = 0, already = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.has_value());
    if (*r) {
      ++won;
      EXPECT_EQ((*r)->claimed_by, "ngo-0");
    } else {
      EXPECT_EQ(r->status().code(), ErrorCode::kAlreadyClaimed);
      ++already;
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(already, 19);
  EXPECT_EQ(index.size(), 0u);  // no longer offered to browsers
  int claimed_events = 0;
  for (const auto& e : store.events()) claimed_events += e.type == "surplus.claimed";
  EXPECT_EQ(claimed_events, 1);
}

TEST_F(ShardActorTest, FailedCommitIsReportedAndTheItemReloaded) {
  Surplus s = post(-6.2, 106.8);
  store.fail_next(Status(ErrorCode::kUnavailable, "disk on fire"));
  std::optional<Result<Surplus>> first;
  service.claim(ngo(1), s.id, std::nullopt, "", [&](Result<Surplus> r) { first = std::move(r); });
  settle();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status().code(), ErrorCode::kUnavailable);
  // The failed claim left no trace: another NGO can claim, and the index shows it until then.
  EXPECT_EQ(index.size(), 1u);
  std::optional<Result<Surplus>> second;
  service.claim(ngo(2), s.id, std::nullopt, "", [&](Result<Surplus> r) { second = std::move(r); });
  settle();
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->claimed_by, "ngo-2");
  EXPECT_EQ((*second)->version, 2);
}

// A claim decided against a copy whose write is still out ("already yours") is answered only after
// that write; if the write failed, the copy never existed, and "claimed by you" would be untrue.
TEST_F(ShardActorTest, AnAnswerDecidedAgainstAWriteThatThenFailsIsNotGiven) {
  Surplus s = post(-6.2, 106.8);
  store.hold(true);
  std::optional<Result<Surplus>> first, again;
  service.claim(ngo(1), s.id, std::nullopt, "", [&](Result<Surplus> r) { first = std::move(r); });
  pool.run_all();
  service.claim(ngo(1), s.id, std::nullopt, "", [&](Result<Surplus> r) { again = std::move(r); });
  pool.run_all();
  ASSERT_FALSE(again.has_value()) << "held behind the first claim's write";
  store.fail_next(Status(ErrorCode::kUnavailable, "fenced out"));
  store.hold(false);
  settle();
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(again->status().code(), ErrorCode::kUnavailable) << "not 200: the claim it repeated never happened";
  EXPECT_FALSE((**store.find_surplus(s.id)).claimed_by);
}

TEST_F(ShardActorTest, StaleVersionFromAnotherReplicaIsAConflict) {
  Surplus s = post(-6.2, 106.8);
  // Another replica claims the item behind this actor's back.
  Surplus moved = s;
  moved.status = SurplusStatus::kClaimed;
  moved.claimed_by = "ngo-elsewhere";
  moved.version = 2;
  UnitOfWork other;
  other.updates.push_back(SurplusUpdate{moved, 1});
  store.commit(std::move(other), [](Status st) { ASSERT_TRUE(st); });
  std::optional<Result<Surplus>> mine;
  service.claim(ngo(1), s.id, std::nullopt, "", [&](Result<Surplus> r) { mine = std::move(r); });
  settle();
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->status().code(), ErrorCode::kConflict);
  // After reloading, the actor knows the truth.
  std::optional<Result<Surplus>> again;
  service.claim(ngo(1), s.id, std::nullopt, "", [&](Result<Surplus> r) { again = std::move(r); });
  settle();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status().code(), ErrorCode::kAlreadyClaimed);
}

TEST_F(ShardActorTest, ExpiryFollowsTheClockNotAScan) {
  Surplus short_lived = post(-6.2, 106.8, 60);
  Surplus long_lived = post(-6.3, 106.9, 600);
  EXPECT_EQ(expiry.run_due(), 0u);
  clock.advance(std::chrono::seconds(59));
  EXPECT_EQ(expiry.run_due(), 0u);
  clock.advance(std::chrono::seconds(1));
  EXPECT_EQ(expiry.run_due(), 1u);
  settle();
  EXPECT_EQ(store.find_surplus(short_lived.id)->value().status, SurplusStatus::kExpired);
  EXPECT_EQ(store.find_surplus(long_lived.id)->value().status, SurplusStatus::kAvailable);
  EXPECT_EQ(index.size(), 1u);
  EXPECT_EQ(store.events().back().type, "surplus.expired");
  std::optional<Result<Surplus>> late;
  service.claim(ngo(1), short_lived.id, std::nullopt, "", [&](Result<Surplus> r) { late = std::move(r); });
  settle();
  EXPECT_EQ(late->status().code(), ErrorCode::kGone);
}

TEST_F(ShardActorTest, ItemsOlderThanTheHotWindowAreBrowsedFromTheStore) {
  const Principal browser = ngo(1);
  Surplus old_item = post(-6.2, 106.8, 6 * 3600);
  clock.advance(std::chrono::minutes(90));
  Surplus young_item = post(-6.2, 106.801, 6 * 3600);
  clock.advance(std::chrono::minutes(31));  // old_item is now 2 h 1 min old
  expiry.run_due();
  settle();
  EXPECT_EQ(index.size(), 1u);  // only the young one is still in memory
  EXPECT_EQ(router.cold_available(), 1);
  auto hits = service.browse(browser, BrowseRequest{-6.2, 106.8, 5000, 10, std::nullopt});
  ASSERT_TRUE(hits);
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].item->surplus.id, old_item.id);  // nearest first across hot and cold
  EXPECT_EQ((*hits)[1].item->surplus.id, young_item.id);
  EXPECT_NE((*hits)[0].item->json.find(old_item.id), std::string::npos);
  // Claiming the cold item takes it out of both.
  service.claim(browser, old_item.id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  EXPECT_EQ(router.cold_available(), 0);
  hits = service.browse(browser, BrowseRequest{-6.2, 106.8, 5000, 10, std::nullopt});
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].item->surplus.id, young_item.id);
}

// Many old items in the browse area: the page is the nearest of them, not the first the store finds
// (the old query took 2,000 rows in no order); old items far away are not read at all.
TEST_F(ShardActorTest, ACrowdedColdAreaStillPagesNearestFirst) {
  for (int i = 0; i < 2500; ++i)
    post(-6.2 + 0.035 + 0.00001 * (i % 50), 106.8 + 0.00001 * (i / 50), 6 * 3600);  // ~4 km
  std::vector<std::string> near;
  for (int i = 0; i < 5; ++i) near.push_back(post(-6.2, 106.8 + 0.0002 * i, 6 * 3600).id);  // within 100 m
  for (int i = 0; i < 300; ++i) post(-7.2, 110.4, 6 * 3600);  // Semarang: another area entirely
  clock.advance(std::chrono::hours(2) + std::chrono::minutes(1));
  expiry.run_due();
  settle();
  ASSERT_EQ(index.size(), 0u);  // all cold now
  auto hits = service.browse(ngo(1), BrowseRequest{-6.2, 106.8, 5000, 5, std::nullopt});
  ASSERT_TRUE(hits);
  ASSERT_EQ(hits->size(), 5u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*hits)[i].item->surplus.id, near[i]) << i;
  auto far = service.browse(ngo(1), BrowseRequest{-6.2, 106.8, 5000, 500, std::nullopt});
  ASSERT_TRUE(far);
  EXPECT_EQ(far->size(), 500u);
  for (const auto& h : *far) EXPECT_LT(h.distance_m, 5000);
}

TEST_F(ShardActorTest, ExpiryOfAClaimedItemChangesNothing) {
  Surplus s = post(-6.2, 106.8, 60);
  service.claim(ngo(1), s.id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  clock.advance(std::chrono::seconds(61));
  EXPECT_EQ(expiry.run_due(), 1u);
  settle();
  EXPECT_EQ(store.find_surplus(s.id)->value().status, SurplusStatus::kClaimed);
}

TEST_F(ShardActorTest, OnlyTheOwnerCancelsAndOnlyClaimantOrOwnerPicksUp) {
  Surplus s = post(-6.2, 106.8);
  std::optional<Result<Surplus>> r;
  auto keep = [&](Result<Surplus> x) { r = std::move(x); };
  service.cancel(kOtherProvider, s.id, "", keep);
  settle();
  EXPECT_EQ(r->status().code(), ErrorCode::kForbidden);
  service.claim(ngo(1), s.id, std::nullopt, "", keep);
  settle();
  service.pickup(ngo(2), s.id, "", keep);
  settle();
  EXPECT_EQ(r->status().code(), ErrorCode::kForbidden);
  service.pickup(kProvider, s.id, "", keep);
  settle();
  ASSERT_TRUE(*r);
  EXPECT_EQ((*r)->status, SurplusStatus::kPickedUp);
  service.cancel(kProvider, s.id, "", keep);
  settle();
  EXPECT_EQ(r->status().code(), ErrorCode::kGone);
}

TEST_F(ShardActorTest, IdempotencyKeyReplaysAndRejectsADifferentBody) {
  PostSurplusRequest req;
  req.title = "Roti";
  req.category = "bakery";
  req.quantity_kg = 3;
  req.ttl_seconds = 600;
  req.lat = -6.2;
  req.lon = 106.8;
  req.idempotency_key = "key-1";
  req.body_fingerprint = "fp-a";
  std::vector<Result<PostOutcome>> outs;
  for (int i = 0; i < 3; ++i) {  // three concurrent duplicates
    service.post(kProvider, req, "", [&](Result<PostOutcome> r) { outs.push_back(std::move(r)); });
  }
  settle();
  ASSERT_EQ(outs.size(), 3u);
  int created = 0;
  for (auto& o : outs) {
    ASSERT_TRUE(o);
    EXPECT_EQ(o->surplus.id, outs[0]->surplus.id);
    created += !o->replayed;
  }
  EXPECT_EQ(created, 1);
  service.post(kProvider, req, "", [&](Result<PostOutcome> r) { outs.push_back(std::move(r)); });
  settle();
  ASSERT_TRUE(outs.back());
  EXPECT_TRUE(outs.back()->replayed);
  req.body_fingerprint = "fp-b";
  service.post(kProvider, req, "", [&](Result<PostOutcome> r) { outs.push_back(std::move(r)); });
  settle();
  EXPECT_EQ(outs.back().status().code(), ErrorCode::kConflict);
  EXPECT_EQ(store.events().size(), 1u);
}

TEST_F(ShardActorTest, RestartRebuildsActorsAndIndexFromTheStore) {
  Surplus a = post(-6.2, 106.8);
  Surplus b = post(-6.3, 106.9);
  service.claim(ngo(1), b.id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  // A new process: fresh index, router and deadlines over the same store.
  S2HotGeoIndex index2;
  DeadlineQueue expiries2;
  ShardRouter router2(kLevel, store, index2, expiries2, events, pool, clock, std::chrono::hours(2));
  ASSERT_TRUE(router2.load_open_items());
  EXPECT_EQ(index2.size(), 1u);     // only the available one is browsable
  EXPECT_EQ(expiries2.size(), 2u);  // and waits for its expiry and for leaving the hot window
  EXPECT_EQ(router2.actor_count(), 2u);
  auto loc = router2.locate(a.id);
  ASSERT_TRUE(loc && *loc);
  EXPECT_EQ(**loc, a.cell);
}

// An actor that holds nothing and runs nothing is dropped; one with an open item or a write in flight
// is not, and a later command for a reclaimed cell finds a new actor that answers from the store.
TEST_F(ShardActorTest, IdleActorsAreReclaimedAndBusyOnesAreNot) {
  Surplus open = post(-6.2, 106.8);
  Surplus done = post(-6.3, 106.9);
  Surplus slow = post(-6.4, 107.0);
  ASSERT_EQ(router.actor_count(), 3u);
  for (const auto& id : {done.id, slow.id}) {
    service.claim(ngo(1), id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  }
  settle();
  service.pickup(ngo(1), done.id, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  store.hold(true);
  std::optional<Result<Surplus>> picked;
  service.pickup(ngo(1), slow.id, "", [&](Result<Surplus> r) { picked = std::move(r); });
  pool.run_all();  // the pickup of `slow` is decided and in flight: its actor must stay
  EXPECT_EQ(router.reclaim_idle(), 1u);
  EXPECT_EQ(router.actor_count(), 2u);
  store.hold(false);
  settle();
  ASSERT_TRUE(picked && *picked);
  EXPECT_EQ(router.reclaim_idle(), 1u);
  EXPECT_EQ(router.actor_count(), 1u);  // `open`'s, which still holds its item

  std::optional<Result<Surplus>> late;
  service.claim(ngo(2), done.id, std::nullopt, "", [&](Result<Surplus> r) { late = std::move(r); });
  settle();
  ASSERT_TRUE(late && !*late);
  EXPECT_EQ(late->status().code(), ErrorCode::kGone);
  std::optional<Result<Surplus>> claimed;
  service.claim(ngo(2), open.id, std::nullopt, "", [&](Result<Surplus> r) { claimed = std::move(r); });
  settle();
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ((*claimed)->claimed_by, "ngo-2");
}

// A provider posting across a wide area touches a new cell with every item: once those items are
// closed, the actor count follows the live cells, not every cell ever used.
TEST_F(ShardActorTest, ActorsOfClosedCellsDoNotAccumulate) {
  router.set_reclaim_floor(64);
  size_t most = 0;
  for (int i = 0; i < 3000; ++i) {
    Surplus s = post(-6.9 + 0.015 * (i % 60), 106.3 + 0.015 * (i / 60));
    service.claim(ngo(1), s.id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
    settle();
    service.pickup(ngo(1), s.id, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
    settle();
    most = std::max(most, router.actor_count());
  }
  EXPECT_LE(most, 128u) << "actors of closed cells were kept";
  router.reclaim_idle();
  EXPECT_EQ(router.actor_count(), 0u);
  EXPECT_EQ(router.items_held(), 0u);
}

// Under load an actor always has some write in flight; a closed item loaded to answer a late command
// (a claim of a picked-up item) must still be dropped, not kept for as long as the process lives.
TEST_F(ShardActorTest, AClosedItemLoadedWhileOtherWritesAreInFlightIsNotKept) {
  Surplus busy = post(-6.2, 106.8);
  Surplus done = post(-6.2, 106.8);
  service.claim(ngo(1), done.id, std::nullopt, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  service.pickup(ngo(1), done.id, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
  settle();
  const size_t before = router.items_held();
  store.hold(true);
  std::optional<Result<Surplus>> late, claimed;
  service.claim(ngo(2), busy.id, std::nullopt, "", [&](Result<Surplus> r) { claimed = std::move(r); });
  pool.run_all();  // the claim of `busy` is now in flight
  service.claim(ngo(3), done.id, std::nullopt, "", [&](Result<Surplus> r) { late = std::move(r); });
  pool.run_all();
  store.hold(false);
  settle();
  ASSERT_TRUE(late && !*late);
  EXPECT_EQ(late->status().code(), ErrorCode::kGone);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ(router.items_held(), before) << "the picked-up item stayed in its actor's memory";
}

// 100,000 items posted, claimed and picked up, with late commands for closed items mixed in: the
// actors, the router and the hot index hold nothing for any of them afterwards.
TEST_F(ShardActorTest, ClosedItemsLeaveNothingBehind) {
  constexpr int kItems = 20000;
  constexpr int kBatch = 500;
  std::vector<std::string> ids;
  for (int i = 0; i < kItems; i += kBatch) {
    store.hold(true);
    std::vector<std::string> batch;
    for (int j = 0; j < kBatch; ++j) {
      PostSurplusRequest req;
      req.title = "Roti";
      req.category = "bakery";
      req.quantity_kg = 1;
      req.ttl_seconds = 3600;
      req.lat = -6.2 + 0.001 * (j % 20);
      req.lon = 106.8;
      service.post(kProvider, req, "", [&](Result<PostOutcome> r) {
        ASSERT_TRUE(r);
        batch.push_back(r->surplus.id);
      });
    }
    settle();  // hold(true): posts commit only when released by settle()
    for (const auto& id : batch) service.claim(ngo(1), id, std::nullopt, "", [](Result<Surplus>) {});
    pool.run_all();  // claims in flight...
    for (const auto& id : ids) service.claim(ngo(2), id, std::nullopt, "", [](Result<Surplus>) {});  // late ones
    settle();
    for (const auto& id : batch) service.pickup(ngo(1), id, "", [](Result<Surplus> r) { ASSERT_TRUE(r); });
    settle();
    store.hold(false);
    ids = std::move(batch);
  }
  settle();
  EXPECT_EQ(router.items_held(), 0u);
  EXPECT_EQ(router.tracked_items(), 0u);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace pahlawan

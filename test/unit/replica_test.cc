// Two replicas in one test process, on one in-memory store with leases, a fake clock and manual
// executors: a cell's partition is served by the replica that holds its lease, and only by it; a
// replica that stops renewing has its partition taken over, items and deadlines included; a paused
// replica that wakes after the takeover commits nothing and drops what it held.
#include <gtest/gtest.h>

#include "adapters/geo/s2_hot_geo_index.h"
#include "adapters/geo/s2_ngo_directory.h"
#include "app/json_event_factory.h"
#include "app/ledger_sync.h"
#include "app/surplus_service.h"
#include "domain/geo.h"
#include "engine/expiry_scheduler.h"
#include "engine/haversine_route_estimator.h"
#include "engine/lease_keeper.h"
#include "engine/matcher.h"
#include "engine/shard_router.h"
#include "fake_clock.h"
#include "in_memory_store.h"
#include "manual_executor.h"

namespace pahlawan {
namespace {

using std::chrono::seconds;
using testing::FakeClock;
using testing::InMemoryStore;
using testing::ManualExecutor;

constexpr Millis kTtl = seconds(9);
constexpr double kLat = -6.1754, kLon = 106.8272;  // Monas, Jakarta
const Principal kProvider{Role::kProvider, "prov-1"};

MatcherSettings match_settings(int max_pending) {
  MatcherSettings s;
  s.policy.radius_m = 10000;
  s.policy.max_attempts = 5;
  s.policy.max_pending_offers = max_pending;
  s.ack_timeout = seconds(300);
  return s;
}

// One replica: everything a `pahlawan serve` holds in memory, on the shared store and clock.
struct Replica {
  Replica(const std::string& name, InMemoryStore& store, FakeClock& clock, int max_pending = 3)
      : store(store),
        ids(clock),
        events(ids, clock),
        router(13, store, index, expiries, events, pool, clock),
        expiry(expiries, router, clock),
        ledger(clock),
        matcher(ngos, ledger, routes, clock, match_settings(max_pending)),
        keeper(store, clock, name, kTtl,
               LeaseKeeper::Callbacks{[this](int64_t p, int64_t) { ASSERT_TRUE(router.adopt_partition(p)); },
                                      [this](int64_t p) { router.drop_partition(p); }}),
        service(router, store, index, ids, clock, &matcher, &ngos) {
    router.enable_matching(matcher, ledger);
    router.enable_leases(keeper);
  }

  Result<Surplus> post(double lat, double lon) {
    PostSurplusRequest req;
    req.title = "Nasi kotak";
    req.category = "prepared_meal";
    req.quantity_kg = 12;
    req.ttl_seconds = 6 * 3600;
    req.lat = lat;
    req.lon = lon;
    std::optional<Result<PostOutcome>> out;
    service.post(kProvider, req, "", [&](Result<PostOutcome> r) { out = std::move(r); });
    settle();
    if (!out) return Status(ErrorCode::kInternal, "no reply");
    if (!*out) return out->status();
    return (*out)->surplus;
  }

  Result<Surplus> claim(const std::string& ngo, const std::string& id) {
    std::optional<Result<Surplus>> out;
    service.claim(Principal{Role::kNgo, ngo}, id, std::nullopt, "", [&](Result<Surplus> r) { out = std::move(r); });
    settle();
    return out ? std::move(*out) : Result<Surplus>(Status(ErrorCode::kInternal, "no reply"));
  }

  void settle() {
    while (pool.run_all() + store.release() > 0) {
    }
  }
  void tick() {
    keeper.tick();
    expiry.run_due();
    settle();
  }

  InMemoryStore& store;
  S2HotGeoIndex index;
  DeadlineQueue expiries;
  ManualExecutor pool;
  IdGenerator ids;
  JsonEventFactory events;
  ShardRouter router;
  ExpiryScheduler expiry;
  S2NgoDirectory ngos;
  NgoLedger ledger;
  HaversineRouteEstimator routes;
  Matcher matcher;
  LeaseKeeper keeper;
  SurplusService service;
};

class ReplicaTest : public ::testing::Test {
 protected:
  ReplicaTest() {
    store.set_lease_clock(&clock);
    // Two NGOs east of Monas, known to both replicas.
    for (int i = 1; i <= 2; ++i) {
      Ngo n{"ngo-" + std::to_string(i),
            "ngo",
            kLat,
            kLon + 0.01 * i,
            NgoKind::kNgo,
            {},
            std::nullopt,
            std::nullopt,
            clock.now()};
      a.ngos.add(n);
      b.ngos.add(n);
    }
  }
  const int64_t monas = partition_of_cell(cell_id_at(kLat, kLon, 13));

  FakeClock clock;
  InMemoryStore store;
  Replica a{"a", store, clock};
  Replica b{"b", store, clock};
};

TEST_F(ReplicaTest, ACellIsServedOnlyByTheReplicaHoldingItsPartition) {
  auto first = a.post(kLat, kLon);
  ASSERT_TRUE(first) << first.status().message();
  EXPECT_EQ(a.keeper.held(), std::vector<int64_t>{monas}) << "taken on first need";
  const size_t stored = store.events().size();

  auto second = b.post(kLat + 0.001, kLon);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.status().code(), ErrorCode::kElsewhere);
  EXPECT_EQ(second.status().message(), "a") << "the holder, for the request to be forwarded to";
  auto claim = b.claim("ngo-1", first->id);
  EXPECT_EQ(claim.status().code(), ErrorCode::kElsewhere);
  EXPECT_EQ(store.events().size(), stored) << "nothing written by the replica that does not hold it";
  EXPECT_EQ(b.index.size(), 0u) << "and nothing of it kept in memory";

  EXPECT_TRUE(a.claim("ngo-1", first->id));
  EXPECT_TRUE(b.post(-6.9175, 107.6191)) << "Bandung is another partition: b takes it";
}

TEST_F(ReplicaTest, ADeadReplicasPartitionIsTakenOverWithItsItemsAndItsOfferDeadline) {
  auto item = a.post(kLat, kLon);
  ASSERT_TRUE(item);
  auto offered = **store.find_surplus(item->id);
  ASSERT_TRUE(offered.offer) << "matched when its insert committed";
  const std::string first_ngo = offered.offer->ngo_id;

  // a dies: it never ticks again. b keeps ticking; within a TTL and a half the lease is b's.
  b.tick();
  for (int i = 0; i < 6 && b.keeper.held().empty(); ++i) {
    clock.advance(seconds(3));
    b.tick();
  }
  ASSERT_EQ(b.keeper.held(), std::vector<int64_t>{monas});
  EXPECT_EQ(b.index.size(), 1u) << "the item adopted into b's hot index";
  EXPECT_GE(b.expiries.size(), 1u);

  // The offer's deadline passes: b re-matches, once, to the other NGO.
  clock.advance(seconds(300));
  b.tick();
  auto now = **store.find_surplus(item->id);
  ASSERT_TRUE(now.offer);
  EXPECT_NE(now.offer->ngo_id, first_ngo);
  EXPECT_EQ(now.offered_to.size(), 2u) << "each NGO offered the item once";
  b.tick();
  EXPECT_EQ((**store.find_surplus(item->id)).version, now.version) << "escalated exactly once";
}

TEST_F(ReplicaTest, AReplicaPausedPastItsLeaseCommitsNothingThenDropsThePartition) {
  auto item = a.post(kLat, kLon);
  ASSERT_TRUE(item);
  ASSERT_EQ(a.index.size(), 1u);
  const auto before = **store.find_surplus(item->id);
  // a decides a claim and hands it to the store, then is paused (no tick) before the commit runs,
  // past the TTL; meanwhile b takes the partition over.
  store.hold(true);
  std::optional<Result<Surplus>> claim;
  a.service.claim(Principal{Role::kNgo, "ngo-2"}, item->id, std::nullopt, "",
                  [&](Result<Surplus> r) { claim = std::move(r); });
  a.pool.run_all();
  ASSERT_FALSE(claim.has_value()) << "the unit waits in the store";
  clock.advance(seconds(10));
  b.keeper.tick();
  clock.advance(seconds(5));
  b.keeper.tick();
  ASSERT_EQ(b.keeper.held(), std::vector<int64_t>{monas});
  store.hold(false);

  a.settle();  // a wakes: its unit reaches the store, fenced at the epoch a lost
  ASSERT_TRUE(claim.has_value());
  ASSERT_FALSE(*claim);
  EXPECT_EQ(claim->status().code(), ErrorCode::kUnavailable) << claim->status().message();
  EXPECT_EQ((**store.find_surplus(item->id)).version, before.version) << "fenced: nothing written";
  a.tick();
  EXPECT_TRUE(a.keeper.held().empty()) << "the partition is dropped";
  EXPECT_EQ(a.index.size(), 0u);
  EXPECT_EQ(a.router.tracked_items(), 0u);

  b.settle();
  EXPECT_EQ(b.index.size(), 1u) << "b adopted the item as the store has it";
  EXPECT_EQ(a.claim("ngo-2", item->id).status().code(), ErrorCode::kElsewhere) << "a rejoined: b serves it";
  EXPECT_TRUE(b.claim("ngo-2", item->id));
}

// Two replicas whose partitions touch offer to one NGO, whose notification cap is 1 here: the store
// refuses the second offer whichever replica's ledger missed the first, and once the first
// replica's offer reaches the second one's ledger (its events), the second item waits in line.
TEST(ReplicaBudgets, TwoReplicasOfferingToOneNgoKeepItsCap) {
  FakeClock clock;
  InMemoryStore store;
  store.set_lease_clock(&clock);
  Replica a{"a", store, clock, 1}, b{"b", store, clock, 1};
  // Two places 2 km apart on either side of a partition boundary, the NGO between them.
  double lon_a = kLon, lon_b = kLon;
  while (partition_of_cell(cell_id_at(kLat, lon_b, 13)) == partition_of_cell(cell_id_at(kLat, kLon, 13)))
    lon_b += 0.005;
  lon_a = lon_b - 0.02;
  ASSERT_NE(partition_of_cell(cell_id_at(kLat, lon_a, 13)), partition_of_cell(cell_id_at(kLat, lon_b, 13)));
  Ngo n{"ngo-1", "ngo", kLat, lon_b - 0.01, NgoKind::kNgo, {}, std::nullopt, std::nullopt, clock.now()};
  for (Replica* r : {&a, &b}) r->ngos.add(n);

  auto first = a.post(kLat, lon_a);
  ASSERT_TRUE(first) << first.status().message();
  ASSERT_TRUE((**store.find_surplus(first->id)).offer);
  auto second = b.post(kLat, lon_b);  // b's ledger has not heard of a's offer
  ASSERT_TRUE(second) << second.status().message();
  auto pending = *store.find_offers_for("ngo-1");
  ASSERT_EQ(pending.size(), 1u) << "the store refused b's offer";
  EXPECT_EQ(pending[0].id, first->id);

  LedgerSync sync(b.ledger);
  for (const auto& e : store.events()) sync.on_event(e);
  clock.advance(seconds(2));  // b's retry of the refused match
  b.tick();
  const Surplus waiting = **store.find_surplus(second->id);
  EXPECT_FALSE(waiting.offer);
  EXPECT_TRUE(waiting.waiting_since) << "b now knows the NGO is busy: the item waits for its slot";
  EXPECT_EQ(store.find_offers_for("ngo-1")->size(), 1u);
}

}  // namespace
}  // namespace pahlawan

// The hot index's contract, run against both implementations: the in-process S2 index each replica
// serves from, and the Redis copy every replica shares (RedisHotIndex, on a real redis-server this
// test starts). Nearest first, within the radius, at most the limit, expired items left out, an
// upsert replacing, a removal removing — in a dense area (answered by the fine cells) and a sparse
// one (the coarse cells), checked against a brute-force scan.
// Then what only the shared copy has: readiness, the partitions' id lists, and the cold counts.
#include <algorithm>
#include <memory>
#include <random>

#include "adapters/geo/s2_hot_geo_index.h"
#include "adapters/redis/redis_hot_index.h"
#include "domain/geo.h"
#include "redis_server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

const TimePoint kNow = from_unix_ms(1'795'000'000'000);
constexpr double kLat = -6.2, kLon = 106.8;

std::shared_ptr<const HotItem> item(const std::string& id, double lat, double lon,
                                    const std::string& category = "bakery",
                                    TimePoint expires = kNow + std::chrono::hours(2),
                                    const std::string& title = "Roti") {
  auto h = std::make_shared<HotItem>();
  h->surplus.id = id;
  h->surplus.lat = lat;
  h->surplus.lon = lon;
  h->surplus.category = category;
  h->surplus.expires_at = expires;
  h->surplus.cell = cell_id_at(lat, lon, 13);
  h->json = R"({"id":")" + id + R"(","title":")" + title + R"("})";
  return h;
}

class Harness {
 public:
  virtual ~Harness() = default;
  virtual void upsert(std::shared_ptr<const HotItem> i) = 0;
  virtual void remove(std::shared_ptr<const HotItem> i) = 0;
  virtual std::vector<NearbyHit> nearby(const NearbyQuery& q) = 0;
};

class S2Harness final : public Harness {
 public:
  void upsert(std::shared_ptr<const HotItem> i) override { index_.upsert(std::move(i)); }
  void remove(std::shared_ptr<const HotItem> i) override { index_.remove(i->surplus.id); }
  std::vector<NearbyHit> nearby(const NearbyQuery& q) override { return index_.nearby(q); }

 private:
  S2HotGeoIndex index_;
};

class RedisHarness final : public Harness {
 public:
  RedisHarness() {
    redis_.start();
    link_ = std::make_unique<RedisLink>(RedisEndpoint{"127.0.0.1", redis_.port(), 0}, Millis(2000));
    index_ = std::make_unique<RedisHotIndex>(*link_);
    EXPECT_TRUE(index_->set_ready("contract").is_ok());
  }
  void upsert(std::shared_ptr<const HotItem> i) override { ASSERT_TRUE(index_->apply({HotChange{i, false}}).is_ok()); }
  void remove(std::shared_ptr<const HotItem> i) override { ASSERT_TRUE(index_->apply({HotChange{i, true}}).is_ok()); }
  std::vector<NearbyHit> nearby(const NearbyQuery& q) override {
    auto r = index_->nearby(q);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r ? *r : std::vector<NearbyHit>{};
  }

 private:
  RedisServerProcess redis_;
  std::unique_ptr<RedisLink> link_;
  std::unique_ptr<RedisHotIndex> index_;
};

struct Implementation {
  const char* name;
  std::function<std::unique_ptr<Harness>()> make;
  friend void PrintTo(const Implementation& i, std::ostream* os) { *os << i.name; }
};

class HotIndexContract : public ::testing::TestWithParam<Implementation> {
 protected:
  void SetUp() override { h_ = GetParam().make(); }

  // The brute-force answer's distances, nearest first.
  std::vector<double> brute(const std::vector<std::shared_ptr<const HotItem>>& all, const NearbyQuery& q) {
    std::vector<double> d;
    for (const auto& i : all) {
      if (i->surplus.expires_at <= q.now) continue;
      if (q.category && i->surplus.category != *q.category) continue;
      const double m = haversine_m(q.lat, q.lon, i->surplus.lat, i->surplus.lon);
      if (m <= q.radius_m) d.push_back(m);
    }
    std::sort(d.begin(), d.end());
    return d;
  }

  // The answer agrees with the scan: as many items (up to the limit), nearest first, each at the
  // distance the scan gives its rank. Distances may differ by 0.3% + 1 m between the earth models (S2
  // and Redis use slightly different radii), and items that close to the radius may fall either way.
  void expect_matches(const std::vector<std::shared_ptr<const HotItem>>& all, const NearbyQuery& q) {
    const auto want = brute(all, q);
    const auto got = h_->nearby(q);
    const size_t n = std::min(want.size(), static_cast<size_t>(q.limit));
    ASSERT_NEAR(static_cast<double>(got.size()), static_cast<double>(n), n == want.size() ? 1.0 : 0.0);
    for (size_t i = 0; i < got.size(); ++i) {
      if (i > 0) {
        EXPECT_LE(got[i - 1].distance_m, got[i].distance_m + 1e-6) << "nearest first";
      }
      EXPECT_LE(got[i].distance_m, q.radius_m * 1.003 + 1);
      if (i < want.size()) {
        EXPECT_NEAR(got[i].distance_m, want[i], want[i] * 0.003 + 1) << "rank " << i;
      }
    }
  }

  std::unique_ptr<Harness> h_;
};

TEST_P(HotIndexContract, ADenseAreaIsAnsweredNearestFirstWithinTheRadiusUpToTheLimit) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> dlat(-0.05, 0.05), dlon(-0.05, 0.05);
  std::vector<std::shared_ptr<const HotItem>> all;
  for (int i = 0; i < 3000; ++i) {
    all.push_back(item("d" + std::to_string(i), kLat + dlat(rng), kLon + dlon(rng), i % 3 ? "bakery" : "produce"));
    h_->upsert(all.back());
  }
  for (int k = 0; k < 10; ++k) {
    expect_matches(all, NearbyQuery{kLat + dlat(rng) / 2, kLon + dlon(rng) / 2, 5000, 20, std::nullopt, kNow});
  }
  expect_matches(all, NearbyQuery{kLat, kLon, 300, 500, std::nullopt, kNow});  // every item within 300 m
  expect_matches(all, NearbyQuery{kLat, kLon, 5000, 50, std::string("produce"), kNow});
  for (const auto& h : h_->nearby(NearbyQuery{kLat, kLon, 5000, 50, std::string("produce"), kNow})) {
    const int n = std::stoi(h.item->surplus.id.substr(1));
    EXPECT_EQ(n % 3, 0) << "only the category asked for";
  }
}

TEST_P(HotIndexContract, ASparseAreaFindsItemsFarBeyondTheFirstKilometre) {
  std::vector<std::shared_ptr<const HotItem>> all;
  // Eight items between 2 and 30 km away, in several directions.
  const double offsets[][2] = {{0.02, 0},    {0, -0.03}, {-0.05, 0.01}, {0.08, 0.08},
                               {-0.1, -0.1}, {0.15, 0},  {0, 0.2},      {-0.25, 0.05}};
  int n = 0;
  for (const auto& o : offsets) {
    all.push_back(item("s" + std::to_string(n++), kLat + o[0], kLon + o[1]));
    h_->upsert(all.back());
  }
  expect_matches(all, NearbyQuery{kLat, kLon, 50000, 5, std::nullopt, kNow});
  expect_matches(all, NearbyQuery{kLat, kLon, 50000, 50, std::nullopt, kNow});
  expect_matches(all, NearbyQuery{kLat, kLon, 10000, 50, std::nullopt, kNow});
  EXPECT_TRUE(h_->nearby(NearbyQuery{kLat, kLon, 1000, 50, std::nullopt, kNow}).empty());
}

TEST_P(HotIndexContract, ExpiredItemsAreLeftOut) {
  h_->upsert(item("fresh", kLat, kLon + 0.001));
  h_->upsert(item("stale", kLat, kLon, "bakery", kNow));
  h_->upsert(item("later", kLat, kLon + 0.002, "bakery", kNow + std::chrono::minutes(1)));
  auto hits = h_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].item->surplus.id, "fresh");
  EXPECT_EQ(hits[1].item->surplus.id, "later");
  EXPECT_TRUE(h_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow + std::chrono::hours(3)}).empty());
}

TEST_P(HotIndexContract, AnUpsertReplacesTheItemAndARemovalRemovesIt) {
  auto first = item("x", kLat, kLon);
  h_->upsert(first);
  h_->upsert(item("x", kLat, kLon, "bakery", kNow + std::chrono::hours(2), "Roti offered"));
  auto hits = h_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NE(hits[0].item->json.find("Roti offered"), std::string::npos) << hits[0].item->json;
  EXPECT_EQ(hits[0].item->surplus.id, "x");
  h_->remove(first);
  EXPECT_TRUE(h_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow}).empty());
  h_->remove(first);  // twice: no error, nothing changes
  EXPECT_TRUE(h_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow}).empty());
}

INSTANTIATE_TEST_SUITE_P(Implementations, HotIndexContract,
                         ::testing::Values(Implementation{"s2", [] { return std::make_unique<S2Harness>(); }},
                                           Implementation{"redis", [] { return std::make_unique<RedisHarness>(); }}),
                         [](const auto& info) { return std::string(info.param.name); });

// What only the shared copy has.
class RedisHotIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_.start();
    link_ = std::make_unique<RedisLink>(RedisEndpoint{"127.0.0.1", redis_.port(), 0}, Millis(2000));
    index_ = std::make_unique<RedisHotIndex>(*link_);
  }
  RedisServerProcess redis_;
  std::unique_ptr<RedisLink> link_;
  std::unique_ptr<RedisHotIndex> index_;
};

TEST_F(RedisHotIndexTest, ACopyNotMarkedReadyIsNotReadAndAMarkIsPerOwner) {
  ASSERT_TRUE(index_->apply({HotChange{item("a", kLat, kLon), false}}).is_ok());
  auto r = index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(*index_->has_mark("r1"));
  ASSERT_TRUE(index_->set_ready("r1").is_ok());
  EXPECT_TRUE(*index_->has_mark("r1"));
  EXPECT_FALSE(*index_->has_mark("r2"));
  ASSERT_EQ(index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow})->size(), 1u);
  ASSERT_TRUE(index_->clear_ready().is_ok());
  EXPECT_FALSE(index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow}).is_ok());
  EXPECT_TRUE(*index_->has_mark("r1")) << "clearing readiness keeps the owners' marks";
}

TEST_F(RedisHotIndexTest, APartitionListsItsItemsAndRemovingByIdEmptiesEveryKey) {
  auto near = item("n1", kLat, kLon), far = item("f1", 1.35, 103.8);  // Jakarta, Singapore
  ASSERT_TRUE(index_->apply({HotChange{near, false}, HotChange{far, false}}).is_ok());
  ASSERT_TRUE(index_->set_ready("r1").is_ok());
  auto parts = index_->partitions();
  ASSERT_TRUE(parts.is_ok());
  ASSERT_EQ(parts->size(), 2u);
  const int64_t p = partition_of_cell(near->surplus.cell);
  EXPECT_EQ(*index_->ids_of(p), std::vector<std::string>{"n1"});
  ASSERT_TRUE(index_->remove_ids(p, {"n1", "unknown"}).is_ok());
  EXPECT_TRUE(index_->ids_of(p)->empty());
  EXPECT_TRUE(index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow})->empty());
  // No set, item or list keeps the removed item: only the other partition's keys, the partition
  // list, and the marks are left.
  const std::string keys = redis_.command({"KEYS", "*n1*"});
  EXPECT_EQ(keys, "");
  EXPECT_EQ(redis_.command({"EXISTS", "pp:i:n1"}), "0");
  EXPECT_EQ(redis_.command({"EXISTS", "pp:i:f1"}), "1");
}

TEST_F(RedisHotIndexTest, TheColdTotalSumsFreshCountsOnly) {
  ASSERT_TRUE(index_->publish_cold("r1", 3, kNow).is_ok());
  ASSERT_TRUE(index_->publish_cold("r2", 4, kNow - std::chrono::seconds(60)).is_ok());  // a dead replica's
  EXPECT_EQ(*index_->cold_total(kNow), 3);
  ASSERT_TRUE(index_->withdraw("r1").is_ok());
  EXPECT_EQ(*index_->cold_total(kNow), 3) << "read again within the second: the cached total";
  EXPECT_EQ(*index_->cold_total(kNow + std::chrono::seconds(2)), 0);
}

TEST_F(RedisHotIndexTest, ADeadServerIsAnErrorNotAHangAndARestartIsPickedUp) {
  ASSERT_TRUE(index_->set_ready("r1").is_ok());
  redis_.stop();
  auto r = index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_FALSE(index_->apply({HotChange{item("a", kLat, kLon), false}}).is_ok());
  redis_.start();  // empty, as a restarted cache node is
  EXPECT_FALSE(*index_->has_mark("r1"));
  EXPECT_FALSE(index_->nearby(NearbyQuery{kLat, kLon, 5000, 10, std::nullopt, kNow}).is_ok()) << "not ready";
}

}  // namespace
}  // namespace pahlawan::testing

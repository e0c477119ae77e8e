// HotIndexMirror: the replica's hot index copied to the shared one, over a fake SharedHotIndex that
// can be taken down and emptied. Rounds are run by the test (sync_once), time by a manual clock.
#include "app/hot_index_mirror.h"

#include <map>
#include <set>

#include "adapters/geo/s2_hot_geo_index.h"
#include "common/manual_clock.h"
#include "domain/geo.h"

#include <gtest/gtest.h>

namespace pahlawan {
namespace {

std::shared_ptr<const HotItem> item(const std::string& id, double lat, double lon) {
  auto h = std::make_shared<HotItem>();
  h->surplus.id = id;
  h->surplus.lat = lat;
  h->surplus.lon = lon;
  h->surplus.category = "bakery";
  h->surplus.cell = cell_id_at(lat, lon, 13);
  h->surplus.expires_at = from_unix_ms(1'795'000'000'000) + std::chrono::hours(2);
  h->json = "{}";
  return h;
}

// The shared copy as maps; `down` makes every call fail as an unreachable Redis does.
class FakeShared final : public SharedHotIndex {
 public:
  bool down = false;
  bool ready = false;
  std::map<std::string, std::shared_ptr<const HotItem>> items;
  std::set<std::string> marks;
  std::map<std::string, int64_t> cold;
  std::vector<std::string> log;  // "clear" and "ready", in order

  void empty() {  // a restarted server
    items.clear();
    marks.clear();
    cold.clear();
    ready = false;
  }
  Status apply(const std::vector<HotChange>& changes) override {
    if (down) return unavailable();
    for (const auto& c : changes) {
      if (c.removed) {
        items.erase(c.item->surplus.id);
      } else {
        items[c.item->surplus.id] = c.item;
      }
    }
    return Status::ok();
  }
  Result<std::vector<int64_t>> partitions() override {
    if (down) return unavailable();
    std::set<int64_t> out;
    for (const auto& [id, i] : items) out.insert(partition_of_cell(i->surplus.cell));
    return std::vector<int64_t>(out.begin(), out.end());
  }
  Result<std::vector<std::string>> ids_of(int64_t partition) override {
    if (down) return unavailable();
    std::vector<std::string> out;
    for (const auto& [id, i] : items) {
      if (partition_of_cell(i->surplus.cell) == partition) out.push_back(id);
    }
    return out;
  }
  Status remove_ids(int64_t, const std::vector<std::string>& ids) override {
    if (down) return unavailable();
    for (const auto& id : ids) items.erase(id);
    return Status::ok();
  }
  Result<bool> has_mark(const std::string& owner) override {
    if (down) return unavailable();
    return marks.count(owner) > 0;
  }
  Status set_ready(const std::string& owner) override {
    if (down) return unavailable();
    marks.insert(owner);
    ready = true;
    log.push_back("ready");
    return Status::ok();
  }
  Status clear_ready() override {
    if (down) return unavailable();
    ready = false;
    log.push_back("clear");
    return Status::ok();
  }
  Status publish_cold(const std::string& owner, int64_t count, TimePoint) override {
    if (down) return unavailable();
    cold[owner] = count;
    return Status::ok();
  }
  Result<int64_t> cold_total(TimePoint) override { return 0; }
  Status withdraw(const std::string& owner) override {
    cold.erase(owner);
    marks.erase(owner);
    return Status::ok();
  }
  Result<std::vector<NearbyHit>> nearby(const NearbyQuery&) override { return unavailable(); }

 private:
  static Status unavailable() { return Status(ErrorCode::kUnavailable, "down"); }
};

constexpr double kJktLat = -6.2, kJktLon = 106.8, kSgLat = 1.35, kSgLon = 103.8;

class HotIndexMirrorTest : public ::testing::Test {
 protected:
  HotIndexMirror& mirror(std::function<bool(int64_t)> owns = nullptr) {
    HotIndexMirror::Options o;
    o.owner = "r1";
    o.owns = std::move(owns);
    o.cold = [this] { return cold_; };
    mirror_ = std::make_unique<HotIndexMirror>(local_, shared_, clock_, o);
    return *mirror_;
  }
  std::set<std::string> shared_ids() const {
    std::set<std::string> out;
    for (const auto& [id, i] : shared_.items) out.insert(id);
    return out;
  }

  ManualClock clock_;
  S2HotGeoIndex local_;
  FakeShared shared_;
  int64_t cold_ = 0;
  std::unique_ptr<HotIndexMirror> mirror_;
};

TEST_F(HotIndexMirrorTest, OnlyOwnedPartitionsAreWrittenAndADroppedOneStaysForItsNewOwner) {
  const int64_t jakarta = partition_of_cell(cell_id_at(kJktLat, kJktLon, 13));
  bool own_jakarta = true;
  auto& m = mirror([&](int64_t p) { return own_jakarta && p == jakarta; });
  m.upsert(item("j", kJktLat, kJktLon));
  m.upsert(item("s", kSgLat, kSgLon));
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"j"}));
  EXPECT_TRUE(shared_.ready);
  EXPECT_EQ(local_.size(), 2u) << "the replica's own index has both";
  // The lease is lost: the actors drop the item; the copy keeps it for the partition's next owner.
  own_jakarta = false;
  m.remove("j");
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"j"}));
  EXPECT_EQ(local_.size(), 1u);
}

TEST_F(HotIndexMirrorTest, LostWritesClearReadinessAndTheRebuildWritesWhatIsHeldAndRemovesTheRest) {
  auto& m = mirror();
  m.upsert(item("a", kJktLat, kJktLon));
  m.upsert(item("b", kJktLat + 0.01, kJktLon));
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"a", "b"}));

  shared_.down = true;
  m.remove("a");  // claimed while Redis is down
  m.upsert(item("c", kJktLat + 0.02, kJktLon));
  EXPECT_FALSE(m.sync_once());
  EXPECT_FALSE(m.sync_once());
  EXPECT_FALSE(m.stats().in_step);
  EXPECT_GE(m.stats().failures, 1u);

  shared_.down = false;
  shared_.log.clear();
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"b", "c"})) << "c written, a removed";
  EXPECT_EQ(shared_.log, (std::vector<std::string>{"clear", "ready"}))
      << "readers were sent to the store until the rebuild ended";
  EXPECT_TRUE(m.stats().in_step);

  // Back in step: changes are written as they come.
  m.remove("b");
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"c"}));
}

TEST_F(HotIndexMirrorTest, ACopyThatLostItsDataIsRebuilt) {
  auto& m = mirror();
  m.upsert(item("a", kJktLat, kJktLon));
  ASSERT_TRUE(m.sync_once());
  shared_.empty();  // Redis restarted with nothing
  clock_.advance(std::chrono::seconds(1));
  EXPECT_FALSE(m.sync_once()) << "its mark is gone: behind";
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"a"}));
  EXPECT_TRUE(shared_.ready);
  EXPECT_EQ(m.stats().rebuilds, 2u);
}

TEST_F(HotIndexMirrorTest, AGainedPartitionLosesWhatItsLastOwnerLeftBehind) {
  auto& m = mirror();
  ASSERT_TRUE(m.sync_once());
  // The last owner wrote "old" and died before writing its removal.
  ASSERT_TRUE(shared_.apply({HotChange{item("old", kJktLat, kJktLon), false}}).is_ok());
  m.upsert(item("kept", kJktLat, kJktLon + 0.01));
  m.request_rebuild();
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_ids(), (std::set<std::string>{"kept"}));
}

TEST_F(HotIndexMirrorTest, TheColdCountIsPublishedEveryTick) {
  auto& m = mirror();
  cold_ = 7;
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_.cold["r1"], 7);
  cold_ = 2;
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_.cold["r1"], 7) << "not again within the tick";
  clock_.advance(std::chrono::seconds(1));
  ASSERT_TRUE(m.sync_once());
  EXPECT_EQ(shared_.cold["r1"], 2);
}

}  // namespace
}  // namespace pahlawan

// DlqCensus over the in-memory store and a fake clock: items in the Geo-DLQ counted by region across
// several pages; items whose time ran out and items not in the DLQ left out; a region that empties
// reported at 0; a failed read keeps the last count.
#include "engine/dlq_census.h"

#include <gtest/gtest.h>

#include <future>
#include <map>

#include "domain/geo.h"
#include "fake_clock.h"
#include "in_memory_store.h"
#include "store_samples.h"

namespace pahlawan::testing {
namespace {

void commit(Store& store, UnitOfWork unit) {
  std::promise<Status> done;
  store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get());
}

Surplus dead_letter(const std::string& id, double lat, double lon, int minute) {
  Surplus s = sample_surplus(id);
  s.lat = lat, s.lon = lon;
  s.dead_lettered = true;
  s.dlq_reason = "no_eligible_ngo";
  s.dlq_at = kSampleNow + std::chrono::minutes(minute);
  return s;
}

std::map<std::string, size_t> as_map(const std::vector<std::pair<std::string, size_t>>& v) {
  return {v.begin(), v.end()};
}

TEST(DlqCensus, CountsTheDlqByRegionAcrossPagesAndReportsAnEmptiedRegionAtZero) {
  InMemoryStore store;
  FakeClock clock(kSampleNow + std::chrono::minutes(30));
  const std::string jakarta = region_token(-6.2, 106.8), surabaya = region_token(-7.25, 112.75);
  ASSERT_NE(jakarta, surabaya);
  UnitOfWork unit;
  for (int i = 0; i < 7; ++i) unit.inserts.push_back(dead_letter("j" + std::to_string(i), -6.2, 106.8, i));
  for (int i = 0; i < 2; ++i) unit.inserts.push_back(dead_letter("s" + std::to_string(i), -7.25, 112.75, i));
  Surplus gone = dead_letter("late", -7.25, 112.75, 3);
  gone.expires_at = clock.now() - std::chrono::minutes(1);  // no longer rescuable
  unit.inserts.push_back(gone);
  unit.inserts.push_back(sample_surplus("not-in-the-dlq"));
  commit(store, std::move(unit));

  DlqCensus census(store, clock, std::chrono::seconds(15), 3);  // pages of 3: four reads
  EXPECT_TRUE(census.by_region().empty()) << "nothing counted yet";
  ASSERT_TRUE(census.count());
  EXPECT_EQ(as_map(census.by_region()), (std::map<std::string, size_t>{{jakarta, 7}, {surabaya, 2}}));

  // Surabaya's two are rescued; the store stops answering; it answers again.
  UnitOfWork rescue;
  for (const char* id : {"s0", "s1"}) {
    Surplus s = *store.find_surplus(id).value();
    const int64_t version = s.version;
    s.dead_lettered = false;
    s.version = version + 1;
    rescue.updates.push_back(SurplusUpdate{s, version});
  }
  commit(store, std::move(rescue));
  store.fail_dead_letter_reads(1);
  EXPECT_FALSE(census.count());
  EXPECT_EQ(as_map(census.by_region()), (std::map<std::string, size_t>{{jakarta, 7}, {surabaya, 2}}))
      << "a failed read keeps the last count";
  ASSERT_TRUE(census.count());
  EXPECT_EQ(as_map(census.by_region()), (std::map<std::string, size_t>{{jakarta, 7}, {surabaya, 0}}));
}

}  // namespace
}  // namespace pahlawan::testing

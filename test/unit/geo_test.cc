#include "domain/geo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "adapters/geo/s2_hot_geo_index.h"

namespace pahlawan {
namespace {

const TimePoint kNow = from_unix_ms(1'795'000'000'000);

TEST(Geo, HaversineKnownDistances) {
  EXPECT_NEAR(haversine_m(0, 0, 0, 1), 111195, 5);  // one degree of the equator
  EXPECT_NEAR(haversine_m(-6.2, 106.8, -6.2, 106.8), 0, 1e-6);
  // Monas to Bundaran HI, Jakarta: about 2.2 km.
  EXPECT_NEAR(haversine_m(-6.1754, 106.8272, -6.1950, 106.8230), 2230, 60);
}

TEST(Geo, CellsAtShardLevelsContainTheirPoints) {
  for (int level = kMinShardLevel; level <= kMaxShardLevel; ++level) {
    const uint64_t cell = cell_id_at(-6.2, 106.8, level);
    const auto cover = covering_cells(-6.2, 106.8, 10, level);
    EXPECT_NE(std::find(cover.begin(), cover.end(), cell), cover.end()) << level;
    EXPECT_FALSE(cell_token(cell).empty());
  }
  // Nearby points at level 12 usually share a cell; far ones never do.
  EXPECT_NE(cell_id_at(-6.2, 106.8, 13), cell_id_at(-7.2, 106.8, 13));
}

TEST(Geo, CoveringGrowsWithRadius) {
  EXPECT_LT(covering_cells(-6.2, 106.8, 500, 13).size(), covering_cells(-6.2, 106.8, 5000, 13).size());
}

std::shared_ptr<const HotItem> item(const std::string& id, double lat, double lon, const std::string& cat = "bakery",
                                    TimePoint expires = kNow + std::chrono::hours(1)) {
  auto h = std::make_shared<HotItem>();
  h->surplus.id = id;
  h->surplus.lat = lat;
  h->surplus.lon = lon;
  h->surplus.category = cat;
  h->surplus.expires_at = expires;
  h->json = "{\"id\":\"" + id + "\"}";
  return h;
}

TEST(Geo, CoveringRangesHoldTheCellsOfTheAreaAndNotOthers) {
  const auto ranges = covering_ranges(-6.2, 106.8, 5000, 13);
  ASSERT_FALSE(ranges.empty());
  EXPECT_LE(ranges.size(), 12u);
  auto covered = [&](double lat, double lon) {
    const uint64_t c = cell_id_at(lat, lon, 13);
    for (const auto& r : ranges) {
      if (c >= r.first && c <= r.last) return true;
    }
    return false;
  };
  EXPECT_TRUE(covered(-6.2, 106.8));
  EXPECT_TRUE(covered(-6.2 + 0.04, 106.8));                             // ~4.4 km north
  EXPECT_TRUE(covered(-6.2, 106.8 - 0.044));                            // ~4.9 km west
  EXPECT_FALSE(covered(-7.2, 110.4));                                   // Semarang
  for (const auto& r : ranges) EXPECT_EQ(r.first >> 61, r.last >> 61);  // one cube face: signed order holds
}

TEST(S2HotGeoIndex, NearestFirstWithinRadiusAndLimit) {
  S2HotGeoIndex index;
  index.upsert(item("far", -6.2, 106.85));    // ~5.5 km east
  index.upsert(item("near", -6.2, 106.801));  // ~110 m
  index.upsert(item("mid", -6.2, 106.82));    // ~2.2 km
  auto hits = index.nearby(NearbyQuery{-6.2, 106.8, 5000, 10, std::nullopt, kNow});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].item->surplus.id, "near");
  EXPECT_EQ(hits[1].item->surplus.id, "mid");
  EXPECT_NEAR(hits[0].distance_m, 110.6, 2);
  EXPECT_EQ(index.nearby(NearbyQuery{-6.2, 106.8, 10000, 1, std::nullopt, kNow}).size(), 1u);
}

TEST(S2HotGeoIndex, FiltersByCategoryAndExpiry) {
  S2HotGeoIndex index;
  index.upsert(item("bread", -6.2, 106.801, "bakery"));
  index.upsert(item("rice", -6.2, 106.802, "prepared_meal"));
  index.upsert(item("stale", -6.2, 106.803, "bakery", kNow));
  auto bakery = index.nearby(NearbyQuery{-6.2, 106.8, 5000, 10, std::string("bakery"), kNow});
  ASSERT_EQ(bakery.size(), 1u);
  EXPECT_EQ(bakery[0].item->surplus.id, "bread");
  EXPECT_TRUE(index.nearby(NearbyQuery{-6.2, 106.8, 5000, 10, std::string("dairy"), kNow}).empty());
}

TEST(S2HotGeoIndex, UpsertReplacesAndRemoveForgets) {
  S2HotGeoIndex index;
  index.upsert(item("a", -6.2, 106.801));
  index.upsert(item("a", -6.3, 106.9));  // moved: only the new place answers
  EXPECT_EQ(index.size(), 1u);
  EXPECT_TRUE(index.nearby(NearbyQuery{-6.2, 106.8, 1000, 10, std::nullopt, kNow}).empty());
  EXPECT_EQ(index.nearby(NearbyQuery{-6.3, 106.9, 1000, 10, std::nullopt, kNow}).size(), 1u);
  index.remove("a");
  index.remove("never-there");
  EXPECT_EQ(index.size(), 0u);
  EXPECT_TRUE(index.nearby(NearbyQuery{-6.3, 106.9, 1000, 10, std::nullopt, kNow}).empty());
}

TEST(S2HotGeoIndex, ItemsSharingAPlaceAreRemovedOneByOneWithoutLosingNeighbours) {
  S2HotGeoIndex index;
  for (int i = 0; i < 5; ++i) index.upsert(item("m" + std::to_string(i), -6.2, 106.801, i % 2 ? "bakery" : "dairy"));
  index.upsert(item("other", -6.2, 106.802));
  EXPECT_EQ(index.places(), 2u);
  index.remove("m0");  // first of the place: the last one takes its slot
  index.remove("m3");
  index.upsert(item("m4", -6.2, 106.801, "bakery"));  // category changed at the same place
  std::set<std::string> ids;
  for (const auto& h : index.nearby(NearbyQuery{-6.2, 106.8, 5000, 50, std::nullopt, kNow}))
    ids.insert(h.item->surplus.id);
  EXPECT_EQ(ids, (std::set<std::string>{"m1", "m2", "m4", "other"}));
  std::set<std::string> bakery;
  for (const auto& h : index.nearby(NearbyQuery{-6.2, 106.8, 5000, 50, std::string("bakery"), kNow})) {
    bakery.insert(h.item->surplus.id);
  }
  EXPECT_EQ(bakery, (std::set<std::string>{"m1", "m4", "other"}));
  for (const char* id : {"m1", "m2", "m4"}) index.remove(id);
  EXPECT_EQ(index.places(), 1u);
  EXPECT_EQ(index.size(), 1u);
}

// A central kitchen posting 100,000 items at its default location: each update and removal there
// must not walk the place's other items (the old index did, under its exclusive lock: quadratic,
// hours for this test). The page still fills from the one place.
TEST(S2HotGeoIndex, OneHundredThousandItemsAtOnePlaceStayCheapToUpdateAndRemove) {
  S2HotGeoIndex index;
  constexpr int kItems = 100000;
  for (int i = 0; i < kItems; ++i) index.upsert(item("k" + std::to_string(i), -6.2, 106.8));
  EXPECT_EQ(index.places(), 1u);
  for (int i = 0; i < kItems; ++i) index.upsert(item("k" + std::to_string(i), -6.2, 106.8));  // e.g. offered
  EXPECT_EQ(index.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(index.nearby(NearbyQuery{-6.2, 106.8, 1000, 500, std::nullopt, kNow}).size(), 500u);
  for (int i = 0; i < kItems; i += 2) index.remove("k" + std::to_string(i));
  auto page = index.nearby(NearbyQuery{-6.2, 106.8, 1000, 500, std::string("bakery"), kNow});
  ASSERT_EQ(page.size(), 500u);
  for (const auto& h : page) EXPECT_EQ(std::stoi(h.item->surplus.id.substr(1)) % 2, 1) << h.item->surplus.id;
  for (int i = 1; i < kItems; i += 2) index.remove("k" + std::to_string(i));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.places(), 0u);
}

}  // namespace
}  // namespace pahlawan

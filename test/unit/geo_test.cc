#include "domain/geo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

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

TEST(Geo, BoundingBoxContainsTheCircle) {
  const GeoBox b = bounding_box(-6.2, 106.8, 5000);
  for (double bearing = 0; bearing < 360; bearing += 15) {
    // A point 4999 m away in each direction.
    const double dlat = 4999 * std::cos(bearing * M_PI / 180) / 111195.0;
    const double dlon = 4999 * std::sin(bearing * M_PI / 180) / (111195.0 * std::cos(-6.2 * M_PI / 180));
    EXPECT_GE(-6.2 + dlat, b.lat_min);
    EXPECT_LE(-6.2 + dlat, b.lat_max);
    EXPECT_GE(106.8 + dlon, b.lon_min);
    EXPECT_LE(106.8 + dlon, b.lon_max);
  }
  const GeoBox pole = bounding_box(89.99, 0, 5000);
  EXPECT_EQ(pole.lon_min, -180);
  EXPECT_EQ(pole.lon_max, 180);
  const GeoBox dateline = bounding_box(0, 179.99, 5000);
  EXPECT_EQ(dateline.lon_min, -180);
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

}  // namespace
}  // namespace pahlawan

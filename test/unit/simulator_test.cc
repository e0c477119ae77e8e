// The city simulator (small evenings, so CI runs them in seconds) and the offline optimum.
#include <gtest/gtest.h>

#include "adapters/geo/s2_ngo_directory.h"
#include "domain/geo.h"
#include "sim/offline_optimum.h"
#include "sim/simulation.h"

namespace pahlawan::sim {
namespace {

CityModel small_evening() {
  CityModel c = jakarta_evening();
  c.name = "small";
  c.providers = 150;
  c.posts = 300;
  c.ngos = 25;
  return c;
}

// 1,200 posts in one second for 30 NGOs: every NGO is soon at its cap.
CityModel small_herd() {
  CityModel c = jakarta_herd();
  c.name = "small-herd";
  c.providers = 1200;
  c.posts = 1200;
  c.ngos = 30;
  return c;
}

SimReport run(const CityModel& city, uint64_t seed, bool line) {
  SimOptions o;
  o.city = city;
  o.seed = seed;
  o.waiting_line = line;
  return run_simulation(o);
}

TEST(Simulator, TheSameSeedGivesTheSameReport) {
  const std::string a = report_json(run(small_evening(), 42, true));
  EXPECT_EQ(a, report_json(run(small_evening(), 42, true)));
  EXPECT_NE(a, report_json(run(small_evening(), 43, true)));
}

TEST(Simulator, AnEveningRescuesFoodAndKeepsEveryNgoWithinItsCap) {
  const SimReport r = run(small_evening(), 1, true);
  EXPECT_EQ(r.items, 300);
  EXPECT_GT(r.kg_claimed, 0.8 * r.kg_posted) << report_text(r);
  EXPECT_LE(r.kg_picked_up, r.kg_claimed);
  EXPECT_LE(r.max_pending, r.cap);
  EXPECT_GE(r.max_pending, 1);
  ASSERT_TRUE(r.offline);
  EXPECT_GE(r.offline->kg_assigned + 1e-6, r.kg_claimed) << "the offline optimum is an upper bound";
}

// The herd of issue 9: greedy dead-letters what busy NGOs cannot take at once; the line keeps it
// until slots free, and rescues more — without any NGO over its cap.
TEST(Simulator, TheWaitingLineRescuesMoreThanGreedyWhenNgosAreBusy) {
  const SimReport greedy = run(small_herd(), 3, false);
  const SimReport line = run(small_herd(), 3, true);
  EXPECT_EQ(greedy.waited, 0);
  EXPECT_GT(greedy.dlq_reasons.at("no_eligible_ngo"), greedy.items / 2) << report_text(greedy);
  EXPECT_GT(line.waited, line.items / 2) << report_text(line);
  EXPECT_GT(line.kg_claimed, 1.5 * greedy.kg_claimed) << report_text(greedy) << report_text(line);
  // What still goes there as no_eligible_ngo was declined by every NGO in range, or found none with
  // capacity left: a few, not the flood.
  const int no_ngo = line.dlq_reasons.count("no_eligible_ngo") ? line.dlq_reasons.at("no_eligible_ngo") : 0;
  EXPECT_LT(no_ngo, line.items / 50) << report_text(line);
  EXPECT_LE(greedy.max_pending, greedy.cap);
  EXPECT_LE(line.max_pending, line.cap);
}

// Two NGOs east of three items; distances in degrees of longitude at the equator-ish latitude of
// Jakarta (0.01° ≈ 1.1 km).
class OfflineOptimum : public ::testing::Test {
 protected:
  void add(const std::string& id, double lon, std::optional<double> capacity,
           std::vector<std::string> categories = {}) {
    Ngo n;
    n.id = n.name = id;
    n.lat = -6.2;
    n.lon = lon;
    n.capacity_kg = capacity;
    n.categories = std::move(categories);
    ngos.add(n);
  }
  double km(double lon_a, double lon_b) { return haversine_m(-6.2, lon_a, -6.2, lon_b) / 1000; }
  S2NgoDirectory ngos;
};

TEST_F(OfflineOptimum, WithRoomForAllEachItemGoesToItsNearestNgo) {
  add("west", 106.80, std::nullopt);
  add("east", 106.90, std::nullopt);
  const std::vector<OfflineItem> items = {
      {-6.2, 106.81, 5, "bakery"}, {-6.2, 106.89, 3, "bakery"}, {-6.2, 106.84, 2, "bakery"}};
  const OfflineBound b = offline_optimum(items, ngos, 20000);
  EXPECT_NEAR(b.kg_assigned, 10, 1e-9);
  EXPECT_NEAR(b.travel_km, km(106.81, 106.80) + km(106.89, 106.90) + km(106.84, 106.80), 0.01);
}

TEST_F(OfflineOptimum, CapacityBindsAndKgComesBeforeDistance) {
  add("near", 106.80, 4.0);  // room for 4 kg only
  add("far", 106.95, 100.0);
  const std::vector<OfflineItem> items = {{-6.2, 106.80, 5, "bakery"}, {-6.2, 106.80, 5, "bakery"}};
  const OfflineBound b = offline_optimum(items, ngos, 20000);
  EXPECT_NEAR(b.kg_assigned, 10, 1e-9);  // all of it, the far NGO taking what the near one cannot
  // 4 kg travel 0 km; the other 6 kg (1.2 items' worth) travel to "far".
  EXPECT_NEAR(b.travel_km, km(106.80, 106.95) * 6.0 / 5.0, 0.01);
}

TEST_F(OfflineOptimum, OutOfRangeFoodBanksAndOtherCategoriesTakeNothing) {
  add("bakery-only", 106.80, std::nullopt, {"bakery"});
  Ngo bank;
  bank.id = bank.name = "bank";
  bank.lat = -6.2;
  bank.lon = 106.80;
  bank.kind = NgoKind::kFoodBank;
  ngos.add(bank);
  add("far-away", 107.50, std::nullopt);
  const std::vector<OfflineItem> items = {{-6.2, 106.80, 5, "prepared_meal"}, {-6.2, 106.80, 2, "bakery"}};
  const OfflineBound b = offline_optimum(items, ngos, 10000);
  EXPECT_NEAR(b.kg_assigned, 2, 1e-9);
}

}  // namespace
}  // namespace pahlawan::sim

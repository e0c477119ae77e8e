// What clients read: numbers as people write them, quantities exact to the gram.
#include <gtest/gtest.h>

#include "app/json_render.h"
#include "app/metrics_subscriber.h"
#include "common/metrics.h"
#include "domain/matching_rules.h"
#include "domain/validation.h"

namespace pahlawan {
namespace {

Surplus sample() {
  Surplus s;
  s.id = "S1";
  s.provider_id = "P1";
  s.title = "Nasi kotak";
  s.category = "prepared_meal";
  s.quantity_kg = 12.5;
  s.lat = -6.2;
  s.lon = 106.8166;
  s.created_at = from_unix_ms(1'795'000'000'000);
  s.expires_at = s.created_at + std::chrono::hours(2);
  return s;
}

TEST(JsonRender, NumbersAreShortestPlainDecimals) {
  const std::string json = render_surplus(sample());
  EXPECT_NE(json.find(R"("quantity_kg":12.5,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("lat":-6.2,)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("lon":106.8166,)"), std::string::npos) << json;
  EXPECT_EQ(json.find('E'), std::string::npos) << json;  // no exponent anywhere

  Surplus big = sample();
  big.quantity_kg = 100000;
  big.lat = 0.000001;
  const std::string b = render_surplus(big);
  EXPECT_NE(b.find(R"("quantity_kg":100000,)"), std::string::npos) << b;
  EXPECT_NE(b.find(R"("lat":0.000001,)"), std::string::npos) << b;
}

TEST(JsonRender, StringsAreStillEscaped) {
  Surplus s = sample();
  s.title = "Roti \"manis\"\n\\";
  const std::string json = render_surplus(s);
  EXPECT_NE(json.find(R"("title":"Roti \"manis\"\n\\")"), std::string::npos) << json;
}

TEST(Quantities, AreKeptToTheGram) {
  EXPECT_EQ(grams_of(12.5), 12500);
  EXPECT_EQ(grams_of(0.0005), 1);  // rounds half away from zero
  EXPECT_FALSE(validate_quantity(0.0004));
  EXPECT_TRUE(validate_quantity(0.001));
  EXPECT_EQ(kg_of(grams_of(0.1)) + kg_of(grams_of(0.2)), 0.30000000000000004);  // why sums are kept in grams
}

TEST(Quantities, TheTonnesRescuedDoNotDrift) {
  MetricsRegistry registry;
  MetricsSubscriber subscriber(registry);
  int64_t seq = 0;
  auto claim = [&](double kg) {
    Surplus s = sample();
    s.quantity_kg = kg;
    s.status = SurplusStatus::kClaimed;
    s.claimed_at = s.created_at + std::chrono::seconds(60);
    Event e;
    e.seq = ++seq;
    e.type = "surplus.claimed";
    e.data_json = render_surplus(s);
    subscriber.on_event(e);
  };
  claim(12.5);
  EXPECT_NE(registry.render().find("food_waste_prevented_tons_total 0.0125\n"), std::string::npos) << registry.render();
  for (int i = 0; i < 10; ++i) claim(0.1);
  claim(0.2);
  EXPECT_NE(registry.render().find("food_waste_prevented_tons_total 0.0137\n"), std::string::npos) << registry.render();
}

TEST(Quantities, CapacityIsComparedInGrams) {
  Ngo ngo;
  ngo.id = "n";
  ngo.capacity_kg = 0.3;
  NgoLoad load;
  load.committed_kg_24h = 0.1;
  Surplus item = sample();
  item.quantity_kg = 0.2;
  EXPECT_FALSE(check_eligibility(ngo, load, item, 10, {}, MatchPolicy{}));  // 0.1 + 0.2 fits 0.3 exactly
  item.quantity_kg = 0.201;
  EXPECT_EQ(check_eligibility(ngo, load, item, 10, {}, MatchPolicy{}), Ineligible::kCapacity);
}

}  // namespace
}  // namespace pahlawan

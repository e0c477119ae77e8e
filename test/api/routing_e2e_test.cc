// Routing over real HTTP: a real server with --routing-url pointing at the fake OSRM router of the
// test suite. A healthy router decides the ranking; a dead one opens the breaker, and matches go on
// by great-circle distance without waiting for it.
#include <chrono>
#include <thread>

#include "api_fixture.h"
#include "fake_osrm_server.h"

namespace pahlawan::testing {
namespace {

// A metric's value from /metrics (the line that starts with `series`), or -1 if absent.
double metric(HttpClient& c, const std::string& series) {
  const std::string text = c.request("GET", "/metrics").body;
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

struct Parties {
  std::string provider_token, near_id, near_token, far_id, far_token;
};

Parties register_parties(HttpClient& c, const std::string& admin) {
  auto reg = [&](const char* path, const std::string& body) {
    auto r = c.call("POST", path, admin, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::make_pair(str(r.json(), "id"), str(r.json(), "token"));
  };
  Parties p;
  p.provider_token = reg("/v1/providers", R"({"name":"Hotel","lat":-6.1754,"lon":106.8272})").second;
  std::tie(p.near_id, p.near_token) = reg("/v1/ngos", R"({"name":"Near","lat":-6.1754,"lon":106.8372})");
  std::tie(p.far_id, p.far_token) = reg("/v1/ngos", R"({"name":"Far","lat":-6.1754,"lon":106.8772})");
  return p;
}

std::string post_item(HttpClient& c, const Parties& p) {
  auto posted = c.call("POST", "/v1/surplus", p.provider_token,
                       R"({"title":"Roti","category":"bakery","quantity_kg":3,"ttl_seconds":3600})");
  EXPECT_EQ(posted.status, 201) << posted.body;
  return str(posted.json(), "id");
}

TEST(RoutingE2E, TheRoutersTravelTimesDecideTheOffer) {
  FakeOsrmServer router;
  router.set_mode(FakeOsrmServer::Mode::kFarthestFastest);
  ServerProcess server("", {"--routing-url", router.url()});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  Parties p = register_parties(c, server.admin_token());
  const std::string id = post_item(c, p);
  auto item = after_first_match(c, id, p.far_token);
  ASSERT_TRUE(item.at("offer").is_object()) << item;
  EXPECT_EQ(item.at("offer").at("ngo_id").as_string(), p.far_id);  // great-circle would pick Near
  EXPECT_EQ(router.requests(), 1);
  EXPECT_EQ(metric(c, "routing_rankings_total{source=\"router\"}"), 1);
  EXPECT_EQ(metric(c, "routing_circuit_breaker_state"), 0);
  EXPECT_EQ(server.stop(), 0);
}

TEST(RoutingE2E, DeadRouterOpensTheBreakerAndOffersGoOnByDistance) {
  FakeOsrmServer router;
  router.set_mode(FakeOsrmServer::Mode::kSilent);
  ServerProcess server("", {"--routing-url", router.url(), "--routing-timeout-ms", "100", "--routing-breaker-failures",
                            "2", "--routing-breaker-cooldown-ms", "3600000"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  Parties p = register_parties(c, server.admin_token());
  for (int i = 0; i < 4; ++i) {
    const std::string id = post_item(c, p);
    auto item = after_first_match(c, id, p.near_token);
    ASSERT_TRUE(item.at("offer").is_object()) << item;
    // Near has room for 3 pending offers (the notification budget); the 4th goes to Far.
    EXPECT_EQ(item.at("offer").at("ngo_id").as_string(), i < 3 ? p.near_id : p.far_id) << i;
  }
  EXPECT_EQ(router.requests(), 2);  // the two that timed out; then the breaker kept matches away
  EXPECT_EQ(metric(c, "routing_circuit_breaker_state"), 2);
  EXPECT_EQ(metric(c, "routing_rankings_total{source=\"fallback\"}"), 4);
  EXPECT_EQ(metric(c, "routing_rankings_total{source=\"router\"}"), 0);
  EXPECT_EQ(server.stop(), 0);
}

TEST(RoutingE2E, ABadRoutingUrlStopsTheServerAtStart) {
  ServerProcess server("", {"--routing-url", "https://osrm.example"});
  EXPECT_NE(server.run_to_exit(), 0);
  EXPECT_NE(server.output().find("--routing-url must be"), std::string::npos) << server.output();
}

}  // namespace
}  // namespace pahlawan::testing

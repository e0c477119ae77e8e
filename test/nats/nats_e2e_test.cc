// A server started with --bus: a post's events reach JetStream with their ids and the request's trace
// context; while NATS is down posts still succeed, and their events arrive, once each, when it returns.
#include <chrono>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "domain/geo.h"
#include "http_client.h"
#include "nats_server_process.h"
#include "server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

constexpr const char* kTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// The stream's messages once it holds at least `n` (polled: the relay publishes on its own thread).
std::vector<NatsServerProcess::Message> wait_for(const NatsServerProcess& nats, size_t n) {
  std::vector<NatsServerProcess::Message> got;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    got = nats.read_stream("PAHLAWAN");
    if (got.size() >= n) break;
  }
  return got;
}

TEST(NatsE2E, EventsReachJetStreamAndAnOutageLosesNone) {
  NatsServerProcess nats;
  nats.start();
  ServerProcess server("", {"--bus", nats.url()});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  auto p = c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  const std::string token(p.json().at("token").as_string());
  const std::string region = cell_token(cell_id_at(-6.2, 106.8, kRegionLevel));
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":5,"ttl_seconds":3600})";
  auto posted = c.call("POST", "/v1/surplus", token, body, {{"traceparent", kTrace}});
  ASSERT_EQ(posted.status, 201) << posted.body;

  auto first = wait_for(nats, 2);  // the provider's registration and the post
  ASSERT_GE(first.size(), 2u);
  bool found = false;
  for (auto& m : first) {
    if (m.subject.rfind("pp.surplus.posted.", 0) != 0) continue;
    found = true;
    EXPECT_EQ(m.subject, "pp.surplus.posted." + region) << "the item's S2 region is the last token";
    EXPECT_EQ(m.headers["traceparent"].substr(0, 36), std::string(kTrace).substr(0, 36)) << "same trace id";
    EXPECT_FALSE(m.headers["Nats-Msg-Id"].empty());
  }
  EXPECT_TRUE(found) << "no pp.surplus.posted message";

  nats.stop();
  for (int i = 0; i < 3; ++i) {
    auto during = c.call("POST", "/v1/surplus", token, body);
    EXPECT_EQ(during.status, 201) << "a post while NATS is down: " << during.body;
  }
  nats.start();
  auto all = wait_for(nats, first.size() + 3);
  std::set<std::string> ids;
  size_t posts = 0;
  for (auto& m : all) {
    EXPECT_TRUE(ids.insert(m.headers["Nats-Msg-Id"]).second) << "twice: " << m.headers["Nats-Msg-Id"];
    posts += m.subject == "pp.surplus.posted." + region;
  }
  EXPECT_EQ(posts, 4u);
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace pahlawan::testing

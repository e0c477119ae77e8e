// A server started with --bus: a post's events reach JetStream with their ids and the request's trace
// context; while NATS is down posts still succeed, and their events arrive, once each, when it returns.
// Matching, the rescue metrics and webhooks ride durable consumers.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "domain/geo.h"
#include "http_client.h"
#include "nats_server_process.h"
#include "server_process.h"
#include "webhook_receiver.h"

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

// The value of one sample in /metrics ("name{labels}" exactly as rendered), or -1.
double metric(HttpClient& c, const std::string& sample) {
  const std::string body = c.request("GET", "/metrics").body;
  const auto at = body.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + sample.size() + 2));
}

// Polls `check` (it reads the server's state) until it holds, for at most 30 s.
bool eventually(const std::function<bool()>& check) {
  for (int i = 0; i < 600; ++i) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a bounded poll, not a sync
  }
  return false;
}

// With --bus, matching a posted item and counting rescued food ride JetStream durable consumers.
// While NATS is down posts and claims succeed (a new item waits for its offer); when it returns the
// waiting item is offered and every claim is counted, each once.
TEST(NatsE2E, MatchingAndRescueMetricsRideJetStreamAndAnOutageAppliesNothingTwice) {
  NatsServerProcess nats;  // the server starts while NATS is still down
  ServerProcess server("", {"--bus", nats.url()});
  server.start();
  nats.start();
  HttpClient c("127.0.0.1", server.port());
  auto n = c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"Panti","lat":-6.201,"lon":106.801})");
  ASSERT_EQ(n.status, 201) << n.body;
  const std::string ntoken(n.json().at("token").as_string());
  auto p = c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
  ASSERT_EQ(p.status, 201) << p.body;
  const std::string ptoken(p.json().at("token").as_string());
  auto post = [&](double kg) {
    auto r = c.call("POST", "/v1/surplus", ptoken,
                    R"({"title":"Nasi","category":"prepared_meal","quantity_kg":)" + std::to_string(kg) +
                        R"(,"ttl_seconds":3600})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.json().at("id").as_string());
  };
  auto offered = [&](const std::string& id) {
    return c.call("GET", "/v1/offers", ntoken).body.find(id) != std::string::npos;
  };
  const std::string tons = "food_waste_prevented_tons_total";

  const std::string a = post(5);
  ASSERT_TRUE(eventually([&] { return offered(a); })) << "the matcher consumer offered the first item";
  ASSERT_EQ(c.call("POST", "/v1/surplus/" + a + "/claim", ntoken).status, 200);
  ASSERT_TRUE(eventually([&] { return metric(c, tons) == 0.005; })) << metric(c, tons);

  nats.stop();
  const std::string b = post(7);
  EXPECT_FALSE(offered(b)) << "no offer without the bus";
  EXPECT_EQ(c.call("POST", "/v1/surplus/" + b + "/claim", ntoken).status, 200) << "claims go on (first come)";
  const std::string d = post(2);
  nats.start();

  EXPECT_TRUE(eventually([&] { return offered(d); })) << "the item posted during the outage is offered";
  EXPECT_TRUE(eventually([&] { return metric(c, tons) == 0.012; })) << metric(c, tons);
  // Everything the relay published has been consumed; the total did not move past one count each.
  EXPECT_TRUE(eventually([&] {
    return metric(c, "bus_consumed_total{consumer=\"metrics\"}") ==
           metric(c, "surplus_events_total{type=\"surplus.posted\"}") +
               metric(c, "surplus_events_total{type=\"surplus.offered\"}") +
               metric(c, "surplus_events_total{type=\"surplus.claimed\"}");
  }));
  EXPECT_EQ(metric(c, tons), 0.012);
  // Redeliveries may happen (acknowledgements in flight when nats-server stopped are lost, and a
  // loaded machine can outlast the ack wait); the two checks above show none was applied again.
  EXPECT_EQ(server.stop(), 0) << server.output();
}

// The webhook of an offer comes from the "webhooks" consumer, acknowledged only once its delivery
// is finished: a server killed while the delivery waits for a retry (ten minutes away) leaves the
// message unacknowledged, and the next server is handed it again and delivers it.
TEST(NatsE2E, AWebhookCutShortByACrashIsDeliveredByTheNextServer) {
  NatsServerProcess nats;
  nats.start();
  Receiver receiver;  // 500 to the first delivery, 200 after
  char tmpl[] = "/tmp/pahlawan-e2e-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::vector<std::string> flags = {
      "--bus", nats.url(), "--bus-ack-wait-ms", "5000", "--webhook-retry-ms", "600000", "--webhook-allow-private",
      "true"};
  std::string event_id;
  {
    ServerProcess server(dir, flags);
    server.start();
    HttpClient c("127.0.0.1", server.port());
    auto n = c.call("POST", "/v1/ngos", server.admin_token(),
                    R"({"name":"Panti","lat":-6.201,"lon":106.801,"webhook_url":"http://127.0.0.1:)" +
                        std::to_string(receiver.port()) + R"(/hook"})");
    ASSERT_EQ(n.status, 201) << n.body;
    auto p = c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.2,"lon":106.8})");
    ASSERT_EQ(p.status, 201) << p.body;
    auto posted = c.call("POST", "/v1/surplus", std::string(p.json().at("token").as_string()),
                         R"({"title":"Nasi","category":"prepared_meal","quantity_kg":3,"ttl_seconds":3600})");
    ASSERT_EQ(posted.status, 201) << posted.body;
    auto first = receiver.wait_for(1);
    ASSERT_EQ(first.size(), 1u);
    event_id = first[0].event_id;
    server.kill();  // SIGKILL, the retry pending
  }
  ServerProcess again(dir, flags);
  again.start();
  auto got = receiver.wait_for(2);
  ASSERT_EQ(got.size(), 2u) << "the offer whose delivery was cut short was not handed over again";
  EXPECT_EQ(got[1].event_id, event_id);
  HttpClient c("127.0.0.1", again.port());
  EXPECT_TRUE(eventually([&] { return metric(c, "webhook_deliveries_total{outcome=\"delivered\"}") == 1; }));
  EXPECT_EQ(metric(c, "bus_consumed_total{consumer=\"webhooks\"}"), 1);
  EXPECT_EQ(again.stop(), 0) << again.output();
  EXPECT_EQ(receiver.received(), 2u) << "delivered, then acknowledged: not handed over a third time";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pahlawan::testing

// Matching over real HTTP with a real server and a 2-second acknowledgement deadline: the nearest NGO
// is offered the item, lets it lapse, the next is offered it, declines, the next claims it. The waits
// are bounded polls on the server's state; the 2 s deadline is the server's own timer.
#include <sys/socket.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "api_fixture.h"
#include "polling.h"
#include "sse_client.h"

namespace pahlawan::testing {
namespace {

// Polls (bounded) until the item's pending offer is for `ngo_id`; returns the item.
boost::json::value wait_for_offer(HttpClient& c, const std::string& id, const std::string& token,
                                  const std::string& ngo_id) {
  boost::json::value v;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    v = c.call("GET", "/v1/surplus/" + id, token).json();
    if (v.at("offer").is_object() && v.at("offer").at("ngo_id").as_string() == ngo_id) return v;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a condition, bounded
  }
  ADD_FAILURE() << "no offer for " << ngo_id << " on " << id << ": " << v;
  return v;
}

// /metrics once it contains `needle`. Event counts come from the relay, which runs on its own thread
// after the commit: polled (bounded), then returned as it is, for the caller's assertions.
std::string metrics_once(HttpClient& c, const std::string& needle) {
  std::string metrics;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
       std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    metrics = c.request("GET", "/metrics").body;
    if (metrics.find(needle) != std::string::npos) break;
  }
  return metrics;
}

TEST(MatchingE2E, OfferLapsesToTheNextNgoThenDeclineThenClaim) {
  ServerProcess server("", {"--ack-timeout", "2"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  auto reg = [&](const char* path, const std::string& body) {
    auto r = c.call("POST", path, admin, body);
    EXPECT_EQ(r.status, 201) << r.body;
    return std::make_pair(str(r.json(), "id"), str(r.json(), "token"));
  };
  auto [pid, ptoken] = reg("/v1/providers", R"({"name":"Hotel","lat":-6.1754,"lon":106.8272})");
  auto [n1, t1] = reg("/v1/ngos", R"({"name":"Nearest","lat":-6.1754,"lon":106.8372})");
  auto [n2, t2] = reg("/v1/ngos", R"({"name":"Second","lat":-6.1754,"lon":106.8472})");
  auto [n3, t3] = reg("/v1/ngos", R"({"name":"Third","lat":-6.1754,"lon":106.8572})");

  auto posted = c.call("POST", "/v1/surplus", ptoken,
                       R"({"title":"Nasi kotak","category":"prepared_meal","quantity_kg":8,"ttl_seconds":3600})");
  ASSERT_EQ(posted.status, 201);
  const std::string id = str(posted.json(), "id");

  auto first = wait_for_offer(c, id, t1, n1);
  EXPECT_EQ(first.at("offer").at("attempt").as_int64(), 1);
  auto offers = c.call("GET", "/v1/offers", t1).json();
  ASSERT_EQ(offers.at("items").as_array().size(), 1u);

  // Nobody acknowledges within 2 s: the second nearest is offered it.
  auto second = wait_for_offer(c, id, t2, n2);
  EXPECT_EQ(second.at("offer").at("attempt").as_int64(), 2);
  EXPECT_TRUE(c.call("GET", "/v1/offers", t1).json().at("items").as_array().empty());

  // The second declines: the third is offered it at once.
  expect_error(c.call("POST", "/v1/surplus/" + id + "/decline", t1), 403, "forbidden");
  auto declined = c.call("POST", "/v1/surplus/" + id + "/decline", t2);
  ASSERT_EQ(declined.status, 200) << declined.body;
  auto third = wait_for_offer(c, id, t3, n3);
  EXPECT_EQ(third.at("offer").at("attempt").as_int64(), 3);

  auto claimed = c.call("POST", "/v1/surplus/" + id + "/claim", t3);
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  EXPECT_EQ(claimed.json().at("claimed_by").as_string(), n3);
  EXPECT_TRUE(claimed.json().at("offer").is_null());
  // Once the claim (the last event) is counted, every event before it in the outbox is too.
  const std::string metrics = metrics_once(c, "\nsurplus_events_total{type=\"surplus.claimed\"} 1\n");
  EXPECT_NE(metrics.find("\nsurplus_offers_total 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nsurplus_rematches_total 2\n"), std::string::npos);  // the lapse and the decline
  EXPECT_NE(metrics.find("\nsurplus_events_total{type=\"surplus.declined\"} 1\n"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);
}

TEST(MatchingE2E, OffersArriveOnTheNgosEventStreamAndReplayFromLastEventId) {
  ServerProcess server;
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Resto","lat":-6.9,"lon":107.6})").json(), "token");
  auto ngo = c.call("POST", "/v1/ngos", admin, R"({"name":"Panti","lat":-6.9,"lon":107.61})").json();
  const std::string ntoken = str(ngo, "token");
  auto other = c.call("POST", "/v1/ngos", admin, R"({"name":"Far","lat":-6.9,"lon":107.65})").json();

  SseClient live(server.port(), ntoken);
  ASSERT_TRUE(live.read_until("\r\n\r\n")) << live.received();  // headers are sent at once
  EXPECT_NE(live.received().find("200 OK"), std::string::npos);
  EXPECT_NE(live.received().find("text/event-stream"), std::string::npos);

  auto post = [&](const char* title) {
    return str(
        c.call("POST", "/v1/surplus", ptoken,
               std::string(R"({"title":")") + title + R"(","category":"bakery","quantity_kg":2,"ttl_seconds":900})")
            .json(),
        "id");
  };
  const std::string first = post("Roti satu");
  ASSERT_TRUE(live.read_until(first)) << live.received();
  const std::string second = post("Roti dua");
  ASSERT_TRUE(live.read_until(second)) << live.received();
  const std::string& got = live.received();
  EXPECT_NE(got.find("event: offer\ndata: {"), std::string::npos) << got;
  // The first frame's id is the event id to resume after.
  const auto id_at = got.find("id: ");
  ASSERT_NE(id_at, std::string::npos);
  const std::string first_event = got.substr(id_at + 4, got.find('\n', id_at) - id_at - 4);

  SseClient resumed(server.port(), ntoken, first_event);
  ASSERT_TRUE(resumed.read_until(second)) << resumed.received();  // replayed from the store
  EXPECT_EQ(resumed.received().find(first), std::string::npos);   // but not what came before

  // Another NGO's stream does not see these offers.
  SseClient stranger(server.port(), str(other, "token"), first_event);
  ASSERT_TRUE(stranger.read_until("\r\n\r\n"));
  EXPECT_EQ(stranger.received().find(second), std::string::npos);

  // An unknown Last-Event-ID replays what the NGO can still act on (its pending offers), not its
  // history: the first item, claimed meanwhile, is not sent again.
  ASSERT_EQ(c.call("POST", "/v1/surplus/" + first + "/claim", ntoken).status, 200);
  SseClient unknown(server.port(), ntoken, "no-such-event-id");
  ASSERT_TRUE(unknown.read_until(second)) << unknown.received();
  EXPECT_EQ(unknown.received().find(first), std::string::npos) << unknown.received();
  EXPECT_EQ(server.stop(), 0);  // open streams do not hold up the drain
}

// Heartbeats every 50 ms on ten NGOs' streams while thirty offers ring them from the relay thread:
// each stream gets heartbeats while quiet, every offer of its NGO, and heartbeats again after (the
// doorbell and the heartbeat's wait race each other many times here, under the sanitizers too).
TEST(MatchingE2E, QuietStreamsGetHeartbeatsAndEveryOfferRingsThrough) {
  ServerProcess server("", {"--sse-heartbeat-ms", "50"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Resto","lat":-6.9,"lon":107.6})").json(), "token");
  std::vector<std::string> tokens;
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 10; ++i) {
    tokens.push_back(
        str(c.call("POST", "/v1/ngos", admin, R"({"name":"Panti","lat":-6.9,"lon":107.601})").json(), "token"));
    streams.push_back(std::make_unique<SseClient>(server.port(), tokens.back()));
  }
  for (auto& s : streams) ASSERT_TRUE(s->read_until(": heartbeat")) << s->received();
  for (int i = 0; i < 30; ++i) {  // three each: the NGOs' cap of pending offers spreads them
    ASSERT_EQ(c.call("POST", "/v1/surplus", ptoken,
                     R"({"title":"Roti","category":"bakery","quantity_kg":1,"ttl_seconds":900})")
                  .status,
              201);
  }
  for (size_t n = 0; n < tokens.size(); ++n) {
    boost::json::value offers;
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
         std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      offers = c.call("GET", "/v1/offers", tokens[n]).json();  // polling the matcher, bounded
      if (offers.at("items").as_array().size() == 3) break;
    }
    ASSERT_EQ(offers.at("items").as_array().size(), 3u) << offers;
    for (const auto& o : offers.at("items").as_array()) {
      EXPECT_TRUE(streams[n]->read_until(std::string(o.at("id").as_string()))) << streams[n]->received();
    }
    const size_t after = streams[n]->received().size();
    EXPECT_TRUE(streams[n]->read_until(": heartbeat", after)) << "quiet again: heartbeats again";
  }
  EXPECT_EQ(server.stop(), 0);
}

// One NGO token opening stream after stream holds at most --max-streams-per-ngo: the oldest end.
TEST(MatchingE2E, AnNgoHoldsAtMostSoManyEventStreams) {
  ServerProcess server("", {"--max-streams-per-ngo", "2"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string ntoken = str(
      c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"Panti","lat":-6.9,"lon":107.61})").json(), "token");
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 5; ++i) {
    streams.push_back(std::make_unique<SseClient>(server.port(), ntoken));
    ASSERT_TRUE(streams.back()->read_until("\r\n\r\n"));
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(streams[static_cast<size_t>(i)]->ended()) << "stream " << i << " still open";
  const std::string metrics = c.request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("\nsse_streams_open 2\n"), std::string::npos) << metrics;
  EXPECT_EQ(server.stop(), 0);
}

TEST(MatchingE2E, UnmatchableItemsAreListedInTheDlqAndCanBeAssigned) {
  ServerProcess server;
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  auto p = c.call("POST", "/v1/providers", admin, R"({"name":"Bakery","lat":-7.79,"lon":110.36})");
  const std::string ptoken = str(p.json(), "token");
  // The only NGO is a food bank: not eligible by default.
  auto bank = c.call("POST", "/v1/ngos", admin, R"({"name":"Bank","lat":-7.79,"lon":110.37,"kind":"food_bank"})");
  const std::string bank_id = str(bank.json(), "id"), bank_token = str(bank.json(), "token");
  const std::string id = str(
      c.call("POST", "/v1/surplus", ptoken, R"({"title":"Roti","category":"bakery","quantity_kg":3,"ttl_seconds":900})")
          .json(),
      "id");
  const auto item = after_first_match(c, id, admin);
  EXPECT_TRUE(item.at("dead_lettered").as_bool()) << item;

  auto dlq = c.call("GET", "/v1/dlq", admin);
  ASSERT_EQ(dlq.status, 200) << dlq.body;
  const auto dlq_json = dlq.json();
  ASSERT_EQ(dlq_json.at("items").as_array().size(), 1u);
  const auto& entry = dlq_json.at("items").as_array()[0];
  EXPECT_EQ(entry.at("id").as_string(), id);
  EXPECT_EQ(entry.at("reason").as_string(), "no_eligible_ngo");
  EXPECT_EQ(entry.at("surplus").at("id").as_string(), id);
  const std::string region = str(entry, "region");
  EXPECT_EQ(c.call("GET", "/v1/dlq?region=" + region, admin).json().at("items").as_array().size(), 1u);
  EXPECT_EQ(c.call("GET", "/v1/dlq?region=00000000", admin).json().at("items").as_array().size(), 0u);
  expect_error(c.call("GET", "/v1/dlq", bank_token), 403, "forbidden");
  // The gauge counts the DLQ by the same region (a scrape shows the count the previous one asked for).
  const std::string gauge = "\nsurplus_dlq_items{region=\"" + region + "\"} ";
  EXPECT_TRUE(eventually([&] { return c.request("GET", "/metrics").body.find(gauge + "1\n") != std::string::npos; }))
      << c.request("GET", "/metrics").body;

  expect_error(c.call("POST", "/v1/dlq/" + id + "/assign", admin, R"({})"), 400, "invalid_request");
  expect_error(c.call("POST", "/v1/dlq/" + id + "/assign", admin, R"({"ngo_id":"nobody"})"), 404, "not_found");
  auto retried = c.call("POST", "/v1/dlq/" + id + "/retry", admin, R"({"include_food_banks":true})");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.json().at("offer").at("ngo_id").as_string(), bank_id);
  EXPECT_FALSE(retried.json().at("dead_lettered").as_bool());
  EXPECT_TRUE(c.call("GET", "/v1/dlq", admin).json().at("items").as_array().empty());
  expect_error(c.call("POST", "/v1/dlq/" + id + "/retry", admin), 404, "not_found");  // no longer in the DLQ
  EXPECT_TRUE(eventually([&] { return c.request("GET", "/metrics").body.find(gauge + "0\n") != std::string::npos; }))
      << "an emptied region falls to 0";
  EXPECT_EQ(server.stop(), 0);
}

// An NGO at its pending-offer cap makes the next item wait in line (not the Geo-DLQ); the admin sees
// the line; the NGO's claim frees the slot and the waiting item is offered to it.
TEST(MatchingE2E, AnItemWaitsForABusyNgoAndIsOfferedWhenItsSlotFrees) {
  ServerProcess server("", {"--max-pending-offers", "1"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Hotel","lat":-6.2,"lon":106.8})").json(), "token");
  auto n = c.call("POST", "/v1/ngos", admin, R"({"name":"Panti","lat":-6.2,"lon":106.81})");
  const std::string ngo_id = str(n.json(), "id"), ntoken = str(n.json(), "token");
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":4,"ttl_seconds":7200})";
  const std::string first = str(c.call("POST", "/v1/surplus", ptoken, body).json(), "id");
  ASSERT_EQ(after_first_match(c, first, admin).at("offer").at("ngo_id").as_string(), ngo_id);
  const std::string second = str(c.call("POST", "/v1/surplus", ptoken, body).json(), "id");
  const auto waiting = after_first_match(c, second, admin);
  EXPECT_TRUE(waiting.at("offer").is_null());
  EXPECT_FALSE(waiting.at("dead_lettered").as_bool());
  EXPECT_TRUE(waiting.at("waiting_since").is_string()) << waiting;

  auto line = c.call("GET", "/v1/waiting", admin);
  ASSERT_EQ(line.status, 200) << line.body;
  ASSERT_EQ(line.json().at("items").as_array().size(), 1u) << line.body;
  EXPECT_EQ(line.json().at("items").at(0).at("id").as_string(), second);
  EXPECT_TRUE(c.call("GET", "/v1/dlq", admin).json().at("items").as_array().empty());
  expect_error(c.call("GET", "/v1/waiting", ntoken), 403, "forbidden");
  expect_error(c.call("GET", "/v1/waiting?limit=0", admin), 400, "invalid_request");
  expect_error(c.call("GET", "/v1/waiting?after=x", admin), 400, "invalid_request");

  ASSERT_EQ(c.call("POST", "/v1/surplus/" + first + "/claim", ntoken).status, 200);
  boost::json::value offered;
  for (int i = 0; i < 500; ++i) {
    offered = c.call("GET", "/v1/surplus/" + second, admin).json();
    if (!offered.at("offer").is_null()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, bounded
  }
  ASSERT_FALSE(offered.at("offer").is_null()) << offered;
  EXPECT_EQ(offered.at("offer").at("ngo_id").as_string(), ngo_id);
  EXPECT_TRUE(offered.at("waiting_since").is_null());
  EXPECT_TRUE(c.call("GET", "/v1/waiting", admin).json().at("items").as_array().empty());
  const std::string metrics = metrics_once(c, "\nsurplus_events_total{type=\"surplus.waiting\"} 1\n");
  EXPECT_NE(metrics.find("\nsurplus_waiting_total 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nsurplus_waiting_seconds_count 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nsurplus_events_total{type=\"surplus.waiting\"} 1\n"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);
}

// With --match-window the first offer comes when the item's window closes, not at once — and it comes.
TEST(MatchingE2E, WithAMatchWindowItemsAreOfferedWhenTheirWindowCloses) {
  ServerProcess server("", {"--match-window", "300ms"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Hotel","lat":-6.2,"lon":106.8})").json(), "token");
  const std::string ngo_id =
      str(c.call("POST", "/v1/ngos", admin, R"({"name":"Panti","lat":-6.2,"lon":106.81})").json(), "id");
  const std::string id = str(c.call("POST", "/v1/surplus", ptoken,
                                    R"({"title":"Nasi","category":"prepared_meal","quantity_kg":4,"ttl_seconds":7200})")
                                 .json(),
                             "id");
  const auto item = after_first_match(c, id, admin);
  ASSERT_FALSE(item.at("offer").is_null()) << item;
  EXPECT_EQ(item.at("offer").at("ngo_id").as_string(), ngo_id);
  EXPECT_NE(c.request("GET", "/metrics").body.find("\nmatching_batch_windows 1\n"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pahlawan::testing

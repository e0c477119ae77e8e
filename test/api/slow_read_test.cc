// A slow store read must not hold an I/O thread: with one I/O thread and a store read slowed by a
// fault point, other requests are answered while the slow one waits — for the event replay, and for
// every request that reads one row (an item, an NGO, an idempotency key, a provider's place, a
// command on an item not open in memory). Built only where the fault points are compiled in (the
// debug and sanitizer presets).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "api_fixture.h"
#include "sse_client.h"

namespace pahlawan::testing {
namespace {

TEST(SlowRead, AnEventReplayWaitingOnTheStoreHoldsNoIoThread) {
  ServerProcess server("", {"--threads", "1"});
  server.set_faults("store.read_offers=delay:2000");
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string ntoken = str(
      c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"Panti","lat":-6.9,"lon":107.61})").json(), "token");

  SseClient stream(server.port(), ntoken, "some-unknown-event-id");
  // The stream is registered before its replay is read: once /metrics counts it, the read has begun.
  // On an I/O thread the read would hold /metrics itself until the stream's headers were sent.
  bool open = false;
  for (int i = 0; i < 200 && !open; ++i) {
    open = c.request("GET", "/metrics").body.find("\nsse_streams_open 1\n") != std::string::npos;
    if (!open) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a bounded poll, not a sync
  }
  ASSERT_TRUE(open);
  EXPECT_EQ(c.request("GET", "/healthz").status, 200);
  EXPECT_EQ(stream.unread(), 0u) << "the stream was answered before /healthz: the replay ran on the I/O thread";
  ASSERT_TRUE(stream.read_until("\r\n\r\n")) << stream.received();
  EXPECT_NE(stream.received().find("text/event-stream"), std::string::npos) << stream.received();
  EXPECT_EQ(server.stop(), 0);
}

// A gauge of the slowed read's fault point from /metrics (test builds export them): "delaying" (threads
// in its delay now) or "hits" (times reached).
long point_gauge(HttpClient& c, const std::string& which) {
  const std::string metrics = c.request("GET", "/metrics").body;
  const std::string key = "fault_point_" + which + "{point=\"store.point_read\"} ";
  const auto at = metrics.find(key);
  return at == std::string::npos ? -1 : std::stol(metrics.substr(at + key.size()));
}
long reads_delaying(HttpClient& c) {
  return point_gauge(c, "delaying");
}

TEST(SlowRead, PointReadsOfTheStoreHoldNoIoThread) {
  ServerProcess server("", {"--threads", "1"});
  server.set_faults("store.point_read=delay:1500");
  server.start();
  HttpClient c("127.0.0.1", server.port());
  auto n = c.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"Panti","lat":-6.9,"lon":107.61})");
  ASSERT_EQ(n.status, 201) << n.body;
  const std::string ngo_id = str(n.json(), "id"), ntoken = str(n.json(), "token");
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Warung","lat":-6.9,"lon":107.6})").json(),
          "token");
  const std::string admin = server.admin_token();
  const std::string body = R"({"title":"Nasi","category":"prepared_meal","quantity_kg":3,"ttl_seconds":3600})";

  struct Case {
    const char* what;
    std::function<int(HttpClient&)> call;
    int status;
  };
  const std::vector<Case> cases = {
      {"an item by id", [&](HttpClient& h) { return h.call("GET", "/v1/surplus/sp-unknown", ntoken).status; }, 404},
      {"a claim of an item not open in memory",
       [&](HttpClient& h) { return h.call("POST", "/v1/surplus/sp-unknown/claim", ntoken).status; }, 404},
      {"a keyed post (its key, then the provider's place)",
       [&](HttpClient& h) {
         return h.call("POST", "/v1/surplus", ptoken, body, {{"Idempotency-Key", "k-1"}}).status;
       },
       201},
      {"an NGO by id", [&](HttpClient& h) { return h.call("GET", "/v1/ngos/" + ngo_id, admin).status; }, 200},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    ASSERT_EQ(reads_delaying(c), 0) << "no fault_point_delaying in /metrics, or a read still delayed";
    std::atomic<bool> answered{false};
    int status = 0;
    std::thread slow([&] {
      HttpClient h("127.0.0.1", server.port());
      status = k.call(h);
      answered = true;
    });
    // /metrics (served by the one I/O thread) sees the read in its delay only if the read is not
    // on the I/O thread: there it would hold this very request until the delay was over.
    bool seen = false;
    for (int i = 0; i < 300 && !seen; ++i) {
      seen = reads_delaying(c) > 0;
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a bounded poll, not a sync
    }
    EXPECT_TRUE(seen) << "no read was seen waiting off the I/O thread";
    EXPECT_EQ(c.request("GET", "/healthz").status, 200);
    EXPECT_FALSE(answered) << "answered before /healthz: the read ran on the I/O thread";
    slow.join();
    EXPECT_EQ(status, k.status);
  }
  // A provider registered by this process: its place is known, so a plain post reads nothing.
  const std::string fresh =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Toko","lat":-6.91,"lon":107.6})").json(), "token");
  const long hits = point_gauge(c, "hits");
  EXPECT_EQ(c.call("POST", "/v1/surplus", fresh, body).status, 201);
  EXPECT_EQ(point_gauge(c, "hits"), hits) << "the post read the store";
  EXPECT_EQ(server.stop(), 0) << server.output();
}

}  // namespace
}  // namespace pahlawan::testing

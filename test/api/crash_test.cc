// kill -9 in the middle of a burst of posts: nothing acknowledged is lost, the hot index is rebuilt,
// and the outbox relay resumes without losing an event or applying one twice (the events.jsonl
// journal is the observable effect of delivery).
#include <boost/json.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include "http_client.h"
#include "journal_reader.h"
#include "server_process.h"

namespace pahlawan::testing {
namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.at(key).as_string());
}

constexpr const char* kCallerTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Crash, Kill9LosesNothingAcknowledged) {
  char tmpl[] = "/tmp/pahlawan-crash-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::set<std::string> acknowledged;
  std::mutex mu;
  std::string ngo_token;
  {
    ServerProcess server(dir, {"--rate-limit", "0"});  // one provider posts the whole burst
    server.start();
    HttpClient admin("127.0.0.1", server.port());
    auto p = admin.call("POST", "/v1/providers", server.admin_token(), R"({"name":"Hotel","lat":-6.2,"lon":106.8})");
    ASSERT_EQ(p.status, 201);
    const std::string ptoken = str(p.json(), "token");
    auto n = admin.call("POST", "/v1/ngos", server.admin_token(), R"({"name":"NGO","lat":-6.2,"lon":106.8})");
    ngo_token = str(n.json(), "token");

    std::atomic<int> sent{0};
    std::atomic<bool> killed{false};
    std::vector<std::thread> posters;
    for (int t = 0; t < 8; ++t) {
      posters.emplace_back([&, t] {
        HttpClient c("127.0.0.1", server.port());
        for (int i = 0; i < 100 && !killed; ++i) {
          const double lat = -6.2 + 0.002 * ((t * 100 + i) % 50);
          try {
            auto r = c.call("POST", "/v1/surplus", ptoken,
                            R"({"title":"Nasi","category":"prepared_meal","quantity_kg":2,"ttl_seconds":3600,"lat":)" +
                                std::to_string(lat) + R"(,"lon":106.8})",
                            {{"traceparent", kCallerTrace}});
            if (r.status == 201) {
              std::lock_guard lock(mu);
              acknowledged.insert(str(r.json(), "id"));
            }
          } catch (const std::exception&) {
            return;  // the server is gone
          }
          sent++;
        }
      });
    }
    // Kill while the burst is in full flight.
    while (sent.load() < 300) std::this_thread::yield();
    server.kill();
    killed = true;
    for (auto& t : posters) t.join();
  }
  ASSERT_GE(acknowledged.size(), 250u);

  ServerProcess again(dir, {"--rate-limit", "0"});
  again.start();
  HttpClient c("127.0.0.1", again.port());
  for (const auto& id : acknowledged) {
    auto r = c.call("GET", "/v1/surplus/" + id, ngo_token);
    ASSERT_EQ(r.status, 200) << id;
  }
  auto near = c.call("GET", "/v1/surplus?lat=-6.15&lon=106.8&radius_m=20000&limit=500", ngo_token);
  std::set<std::string> browsable;
  const auto near_json = near.json();
  for (const auto& item : near_json.at("items").as_array()) browsable.insert(str(item, "id"));
  for (const auto& id : acknowledged) EXPECT_TRUE(browsable.count(id)) << "not browsable after restart: " << id;

  // A graceful stop drains the relay, so afterwards the journal holds every committed event:
  // each exactly once, whichever were delivered before the kill and whichever after the restart.
  EXPECT_EQ(again.stop(), 0);

  const JournalRead journal = read_journal(dir);
  EXPECT_EQ(journal.gap, "") << "gap or repeat in the journal";
  std::map<std::string, int> per_event;
  std::set<std::string> posted;
  for (const auto& e : journal.events) {
    per_event[str(e, "id")]++;
    if (e.at("type").as_string() == "surplus.posted") {
      posted.insert(str(e, "surplus_id"));
      // The caller's trace continues into the event, under a span of the server's own.
      const std::string tp = str(e, "traceparent");
      EXPECT_EQ(tp.substr(0, 36), std::string(kCallerTrace).substr(0, 36)) << tp;
      EXPECT_NE(tp.substr(36, 16), std::string(kCallerTrace).substr(36, 16)) << tp;
    }
  }
  for (const auto& [id, count] : per_event) EXPECT_EQ(count, 1) << id;
  for (const auto& id : acknowledged) EXPECT_TRUE(posted.count(id)) << "posted event missing for " << id;
  std::filesystem::remove_all(dir);
}

TEST(Crash, SigtermDrainsAndExitsZero) {
  ServerProcess server;
  server.start();
  HttpClient c("127.0.0.1", server.port());
  EXPECT_EQ(c.request("GET", "/readyz").status, 200);
  EXPECT_EQ(server.stop(), 0);
  EXPECT_NE(server.output().find("drained"), std::string::npos) << server.output();
}

}  // namespace
}  // namespace pahlawan::testing

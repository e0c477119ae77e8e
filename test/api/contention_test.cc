// Claims raced from many threads over real HTTP: every item is claimed exactly once.
#include <atomic>
#include <thread>

#include "api_fixture.h"

namespace pahlawan::testing {
namespace {

class Contention : public ApiTest {};

TEST_F(Contention, ManyNgosRaceForOneItemExactlyOneWins) {
  auto [pid, ptoken] = provider();
  const std::string id = str(post(ptoken), "id");
  constexpr int kNgos = 32;
  std::vector<std::string> tokens;
  for (int i = 0; i < kNgos; ++i) tokens.push_back(ngo().second);
  std::atomic<int> ok{0}, already{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNgos; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c("127.0.0.1", server_->port());
      auto r = c.call("POST", "/v1/surplus/" + id + "/claim", tokens[i]);
      if (r.status == 200) {
        ok++;
      } else if (r.status == 409 && r.json().at("error").at("code").as_string() == "already_claimed") {
        already++;
      } else {
        other++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(already.load(), kNgos - 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_F(Contention, ManyItemsManyNgosEachItemClaimedExactlyOnce) {
  auto [pid, ptoken] = provider();
  constexpr int kItems = 40, kNgos = 8;
  std::vector<std::string> items, tokens, ngo_ids;
  for (int i = 0; i < kItems; ++i) {
    // Spread over several cells so several shard actors take part.
    const double lat = -6.2 + 0.01 * (i % 5);
    items.push_back(str(post(ptoken, R"({"title":"t","category":"bakery","quantity_kg":1,"ttl_seconds":900,"lat":)" +
                                         std::to_string(lat) + R"(,"lon":106.8})"),
                        "id"));
  }
  for (int i = 0; i < kNgos; ++i) {
    auto [nid, tok] = ngo();
    ngo_ids.push_back(nid);
    tokens.push_back(tok);
  }
  std::vector<std::atomic<int>> wins(kItems);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < kNgos; ++n) {
    threads.emplace_back([&, n] {
      HttpClient c("127.0.0.1", server_->port());
      // Each NGO walks the items from a different starting point.
      for (int k = 0; k < kItems; ++k) {
        const int i = (k + n * 5) % kItems;
        auto r = c.call("POST", "/v1/surplus/" + items[i] + "/claim", tokens[n]);
        if (r.status == 200) {
          wins[i]++;
        } else if (r.status != 409) {
          bad++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  HttpClient c("127.0.0.1", server_->port());
  for (int i = 0; i < kItems; ++i) {
    EXPECT_EQ(wins[i].load(), 1) << items[i];
    auto s = c.call("GET", "/v1/surplus/" + items[i], admin()).json();
    EXPECT_EQ(s.at("status").as_string(), "claimed");
  }
}

}  // namespace
}  // namespace pahlawan::testing

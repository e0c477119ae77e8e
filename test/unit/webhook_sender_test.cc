// WebhookSender against receivers that accept a connection and then stall — never answering, or
// never finishing the TLS handshake. Each attempt must end at the sender's timeout and count as a
// failure, so one stalled receiver cannot hold the sender's only thread. Real sockets and real time
// (the sender's timeout is a socket deadline); the waits are for the outcome counter, bounded.
#include "adapters/webhook/webhook_sender.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "adapters/geo/s2_ngo_directory.h"
#include "app/json_event_factory.h"
#include "common/ids.h"
#include "domain/event.h"
#include "fake_clock.h"

namespace pahlawan {
namespace {

namespace asio = boost::asio;

// A receiver on loopback: kStall accepts connections and holds them open without reading or writing
// a byte; kAnswer answers every request with 204 (it reads whatever arrives first, unparsed).
class LoopbackReceiver {
 public:
  enum Mode { kStall, kAnswer };
  explicit LoopbackReceiver(Mode mode) : mode_(mode), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~LoopbackReceiver() {
    io_.stop();
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int accepted() const { return accepted_.load(); }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      ++accepted_;
      if (mode_ == kStall) {
        held_.push_back(std::move(s));
      } else {
        answer(std::make_shared<asio::ip::tcp::socket>(std::move(s)));
      }
      accept();
    });
  }
  static void answer(std::shared_ptr<asio::ip::tcp::socket> socket) {
    auto buf = std::make_shared<std::array<char, 4096>>();
    socket->async_read_some(asio::buffer(*buf), [socket, buf](boost::system::error_code ec, size_t) {
      if (ec) return;
      static const std::string kAnswer = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
      asio::async_write(*socket, asio::buffer(kAnswer), [socket](boost::system::error_code, size_t) {});
    });
  }
  const Mode mode_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<asio::ip::tcp::socket> held_;  // io thread only
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

double failed(MetricsRegistry& m) {
  return m.counter("webhook_deliveries_total", "", "outcome=\"failed\"").value();
}

class WebhookSenderTest : public ::testing::TestWithParam<const char*> {};

TEST_P(WebhookSenderTest, AStalledReceiverTimesOutAndIsCountedFailed) {
  LoopbackReceiver receiver(LoopbackReceiver::kStall);
  testing::FakeClock clock;
  IdGenerator ids(clock);
  JsonEventFactory events(ids, clock);
  S2NgoDirectory ngos;
  Ngo ngo{"ngo-1",       "Panti",
          -6.2,          106.8,
          NgoKind::kNgo, {},
          std::nullopt,  std::string(GetParam()) + "://localhost:" + std::to_string(receiver.port()) + "/hook",
          clock.now(),   "secret"};
  ngos.add(ngo);
  MetricsRegistry metrics;
  WebhookOptions options;
  options.timeout = std::chrono::milliseconds(200);
  options.base_backoff = std::chrono::milliseconds(10);
  options.max_attempts = 2;
  options.allow_private = true;  // the stalled receiver is on loopback
  WebhookSender sender(ngos, metrics, options);
  ASSERT_TRUE(sender.start());

  Surplus s;
  s.id = "s-1";
  s.title = "Roti";
  s.category = "bakery";
  s.quantity_kg = 2;
  s.lat = -6.2;
  s.lon = 106.8;
  s.offered_to = {"ngo-1"};
  s.offer = Offer{"ngo-1", clock.now() + std::chrono::minutes(5), 1};
  const auto started = std::chrono::steady_clock::now();
  sender.on_event(events.make(event_type::kOffered, s, ""));

  const auto limit = started + std::chrono::seconds(30);
  while (failed(metrics) < 1 && std::chrono::steady_clock::now() < limit) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, bounded
  }
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(failed(metrics), 1);
  EXPECT_EQ(receiver.accepted(), 2);  // both attempts connected, then stalled
  // Two attempts of 200 ms each, not the receiver's forever — a bound on correctness, not speed.
  EXPECT_LT(took, std::chrono::seconds(10));
  sender.stop();
}

INSTANTIATE_TEST_SUITE_P(PlainAndTls, WebhookSenderTest, ::testing::Values("http", "https"));

double delivered(MetricsRegistry& m) {
  return m.counter("webhook_deliveries_total", "", "outcome=\"delivered\"").value();
}

// A receiver whose name never resolves (its DNS server does not answer) costs one attempt's timeout,
// not the delivery worker: with a single worker, another NGO's offer is delivered while that lookup
// is still hanging.
TEST(WebhookSenderLookup, AHangingLookupDoesNotHoldTheWorker) {
  LoopbackReceiver receiver(LoopbackReceiver::kAnswer);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  WebhookOptions options;
  options.timeout = std::chrono::milliseconds(200);
  options.base_backoff = std::chrono::milliseconds(10);
  options.max_attempts = 1;
  options.workers = 1;
  options.allow_private = true;  // the answering receiver is on loopback
  options.resolve = [&](const std::string& host) -> std::vector<asio::ip::address> {
    if (host == "hanging.example") {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
      return {};
    }
    return {asio::ip::make_address("127.0.0.1")};
  };
  testing::FakeClock clock;
  IdGenerator ids(clock);
  JsonEventFactory events(ids, clock);
  S2NgoDirectory ngos;
  const std::string live = "http://receiver.example:" + std::to_string(receiver.port()) + "/hook";
  ngos.add(Ngo{"ngo-1",
               "Panti",
               -6.2,
               106.8,
               NgoKind::kNgo,
               {},
               std::nullopt,
               "http://hanging.example/hook",
               clock.now(),
               "secret"});
  ngos.add(Ngo{"ngo-2", "Dapur", -6.2, 106.8, NgoKind::kNgo, {}, std::nullopt, live, clock.now(), "secret"});
  MetricsRegistry metrics;
  {
    WebhookSender sender(ngos, metrics, options);
    ASSERT_TRUE(sender.start());
    for (const char* ngo : {"ngo-1", "ngo-2"}) {
      Surplus s;
      s.id = std::string("s-") + ngo;
      s.title = "Roti";
      s.category = "bakery";
      s.quantity_kg = 2;
      s.offered_to = {ngo};
      s.offer = Offer{ngo, clock.now() + std::chrono::minutes(5), 1};
      sender.on_event(events.make(event_type::kOffered, s, ""));
    }
    const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((delivered(metrics) < 1 || failed(metrics) < 1) && std::chrono::steady_clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition, bounded
    }
    EXPECT_EQ(delivered(metrics), 1) << "ngo-2's offer waited behind ngo-1's hanging lookup";
    EXPECT_EQ(failed(metrics), 1);  // ngo-1's attempt gave up at its timeout
    {
      std::lock_guard lock(mu);
      EXPECT_FALSE(release);  // and the lookup was still hanging all along
      release = true;
    }
    cv.notify_all();
    sender.stop();
  }
}

// More lookups out than the limit fail at once instead of queueing behind the hanging ones.
TEST(HostLookup, RefusesBeyondItsPendingLimit) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  {
    HostLookup lookup(
        [&](const std::string&) -> std::vector<asio::ip::address> {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return release; });
          return {asio::ip::make_address("127.0.0.1")};
        },
        1, 2);
    const auto now = std::chrono::steady_clock::now();
    EXPECT_TRUE(lookup.resolve("a.example", now + std::chrono::milliseconds(20)).empty());
    EXPECT_TRUE(lookup.resolve("b.example", now + std::chrono::milliseconds(20)).empty());
    EXPECT_EQ(lookup.pending(), 2);
    EXPECT_TRUE(lookup.resolve("c.example", std::chrono::steady_clock::now() + std::chrono::hours(1)).empty())
        << "the third lookup waited instead of failing at once";
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
  }
  // Once the hanging lookups end, a lookup answers again.
  HostLookup fresh(
      [](const std::string&) { return std::vector<asio::ip::address>{asio::ip::make_address("10.0.0.1")}; });
  const auto got = fresh.resolve("d.example", std::chrono::steady_clock::now() + std::chrono::seconds(30));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].to_string(), "10.0.0.1");
}

// The receiver's side of the scheme, checked against an independent HMAC (Python's hmac module).
TEST(WebhookSignature, SignsTheTimestampWithTheBody) {
  EXPECT_EQ(webhook_signature("whsec_test", R"({"id":"e1"})", 1795000000),
            "t=1795000000,v1=fddbd4be3580eeccfcaaa22ef677a5ffbd1e5ecfd1dae85f757c61ec5845ca38");
  // The same body at another time signs differently: an old capture does not verify as new.
  EXPECT_NE(webhook_signature("whsec_test", R"({"id":"e1"})", 1795000301).substr(14),
            webhook_signature("whsec_test", R"({"id":"e1"})", 1795000000).substr(14));
}

}  // namespace
}  // namespace pahlawan

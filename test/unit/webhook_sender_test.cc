// WebhookSender against receivers that accept a connection and then stall — never answering, or
// never finishing the TLS handshake. Each attempt must end at the sender's timeout and count as a
// failure, so one stalled receiver cannot hold the sender's only thread. Real sockets and real time
// (the sender's timeout is a socket deadline); the waits are for the outcome counter, bounded.
#include "adapters/webhook/webhook_sender.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <thread>

#include "adapters/geo/s2_ngo_directory.h"
#include "app/json_event_factory.h"
#include "common/ids.h"
#include "domain/event.h"
#include "fake_clock.h"

namespace pahlawan {
namespace {

namespace asio = boost::asio;

// Accepts connections and holds them open without reading or writing a byte.
class StalledReceiver {
 public:
  StalledReceiver() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StalledReceiver() {
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
      held_.push_back(std::move(s));
      accept();
    });
  }
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
  StalledReceiver receiver;
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

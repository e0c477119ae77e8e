// Webhooks over real HTTP: a local receiver answers 500 once, then 200; the server must retry and
// sign every delivery with the NGO's secret (checked here with OpenSSL directly).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api_fixture.h"

namespace pahlawan::testing {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

struct Received {
  std::string event_id, signature, body;
};

// Accepts connections one at a time; the first request gets 500, the rest 200.
class Receiver {
 public:
  Receiver() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    stop_ = true;
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    beast::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);  // unblock accept
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

  std::vector<Received> wait_for(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return got_.size() >= n; });
    return got_;
  }

 private:
  void serve() {
    while (!stop_) {
      asio::ip::tcp::socket socket(io_);
      beast::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stop_) return;
      beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) continue;
      bool first;
      {
        std::lock_guard lock(mu_);
        first = got_.empty();
        got_.push_back(
            Received{std::string(req["X-Pahlawan-Event-Id"]), std::string(req["X-Pahlawan-Signature"]), req.body()});
      }
      http::response<http::string_body> res{first ? http::status::internal_server_error : http::status::ok, 11};
      res.body() = "{}";
      res.prepare_payload();
      http::write(socket, res, ec);
      cv_.notify_all();
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> got_;
};

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  std::string out;
  char hex[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", mac[i]);
    out += hex;
  }
  return out;
}

TEST(WebhookE2E, OffersAreSignedAndRetriedUntilTheReceiverAccepts) {
  Receiver receiver;
  ServerProcess server("", {"--webhook-retry-ms", "50"});
  server.start();
  HttpClient c("127.0.0.1", server.port());
  const std::string admin = server.admin_token();
  const std::string ptoken =
      str(c.call("POST", "/v1/providers", admin, R"({"name":"Resto","lat":-6.3,"lon":106.9})").json(), "token");
  auto ngo = c.call("POST", "/v1/ngos", admin,
                    R"({"name":"Panti","lat":-6.3,"lon":106.91,"webhook_url":"http://127.0.0.1:)" +
                        std::to_string(receiver.port()) + R"(/hook"})");
  ASSERT_EQ(ngo.status, 201) << ngo.body;
  const std::string secret = str(ngo.json(), "webhook_secret");
  const std::string id = str(
      c.call("POST", "/v1/surplus", ptoken, R"({"title":"Roti","category":"bakery","quantity_kg":2,"ttl_seconds":900})")
          .json(),
      "id");

  const auto got = receiver.wait_for(2);
  ASSERT_GE(got.size(), 2u) << "expected a failed delivery and its retry";
  for (const auto& r : got) {
    EXPECT_EQ(r.signature, "sha256=" + hmac_hex(secret, r.body));
    const auto event = boost::json::parse(r.body);
    EXPECT_EQ(event.at("id").as_string(), r.event_id);
    EXPECT_EQ(event.at("type").as_string(), "surplus.offered");
    EXPECT_EQ(event.at("surplus_id").as_string(), id);
    EXPECT_EQ(event.at("data").at("offer").at("ngo_id").as_string(), str(ngo.json(), "id"));
  }
  EXPECT_EQ(got[0].event_id, got[1].event_id);  // the same event, retried: receivers de-duplicate by id
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace pahlawan::testing

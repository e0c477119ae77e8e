// OfferWatch: the NGO side of the rescue-herd benchmark. Holds one GET /v1/events stream per NGO,
// notes when each item's first offer is seen, and — like a volunteer glancing at their phone — claims
// each offer after a random delay over a small pool of keep-alive connections. Runs on a thread of
// its own (one io_context), so the posting side of the generator is not slowed by it.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "load_client.h"

namespace pahlawan::bench {

class OfferWatch {
 public:
  OfferWatch(int port, std::vector<std::string> ngo_tokens, std::chrono::milliseconds ack_min,
             std::chrono::milliseconds ack_max, uint64_t seed)
      : port_(port), tokens_(std::move(ngo_tokens)), ack_min_(ack_min), ack_max_(ack_max), rng_(seed) {}
  ~OfferWatch() { stop(); }

  // Opens every stream; returns once all are connected (the server then sends every new offer).
  void start() {
    for (size_t i = 0; i < tokens_.size(); ++i) asio::co_spawn(io_, stream(i), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return connected_ == tokens_.size(); });
  }
  void stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  size_t offered_items() {
    std::lock_guard lock(mu_);
    return first_seen_.size();
  }
  size_t claims_ok() const { return claims_ok_.load(); }
  size_t claims_refused() const { return claims_refused_.load(); }
  size_t offer_events() const { return offer_events_.load(); }
  // Surplus id → when its first offer arrived. Read after stop().
  const std::unordered_map<std::string, Clock::time_point>& first_seen() const { return first_seen_; }

 private:
  asio::awaitable<void> stream(size_t ngo) {
    asio::ip::tcp::socket sock(io_);
    beast::error_code connect_ec;
    co_await sock.async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                                asio::redirect_error(asio::use_awaitable, connect_ec));
    if (connect_ec) {
      std::fprintf(stderr, "offer stream %zu: cannot connect: %s\n", ngo, connect_ec.message().c_str());
      co_return;
    }
    const std::string req =
        "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer " +
        tokens_[ngo] + "\r\n\r\n";
    co_await asio::async_write(sock, asio::buffer(req), asio::use_awaitable);
    std::string buf;
    co_await asio::async_read_until(sock, asio::dynamic_buffer(buf), "\r\n\r\n", asio::use_awaitable);
    buf.erase(0, buf.find("\r\n\r\n") + 4);
    {
      std::lock_guard lock(mu_);
      ++connected_;
    }
    cv_.notify_all();
    for (;;) {
      beast::error_code ec;
      co_await asio::async_read_until(sock, asio::dynamic_buffer(buf), "\n\n",
                                      asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      for (size_t end; (end = buf.find("\n\n")) != std::string::npos;) {
        on_block(ngo, buf.substr(0, end));
        buf.erase(0, end + 2);
      }
    }
  }

  void on_block(size_t ngo, const std::string& block) {
    if (block.find("event: offer") == std::string::npos) return;  // heartbeats
    const size_t data = block.find("data: ");
    if (data == std::string::npos) return;
    const auto now = Clock::now();
    boost::system::error_code ec;
    auto v = boost::json::parse(block.substr(data + 6), ec);
    if (ec || !v.is_object()) return;
    const std::string id(v.at("id").as_string());
    ++offer_events_;
    {
      std::lock_guard lock(mu_);
      first_seen_.emplace(id, now);
    }
    std::uniform_int_distribution<int64_t> delay(ack_min_.count(), ack_max_.count());
    asio::co_spawn(io_, claim(ngo, id, std::chrono::milliseconds(delay(rng_))), asio::detached);
  }

  asio::awaitable<void> claim(size_t ngo, std::string id, std::chrono::milliseconds after) {
    asio::steady_timer t(io_, after);
    co_await t.async_wait(asio::use_awaitable);
    // A pooled connection the server has closed meanwhile fails at once: then once more, fresh.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool pooled = !idle_.empty();
      std::unique_ptr<beast::tcp_stream> s;
      beast::error_code ec;
      if (pooled) {
        s = std::move(idle_.back());
        idle_.pop_back();
      } else {
        s = std::make_unique<beast::tcp_stream>(io_);
        co_await s->async_connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)},
                                  asio::redirect_error(asio::use_awaitable, ec));
      }
      http::request<http::empty_body> req{http::verb::post, "/v1/surplus/" + id + "/claim", 11};
      req.set(http::field::host, "127.0.0.1");
      req.set(http::field::authorization, "Bearer " + tokens_[ngo]);
      if (!ec) co_await http::async_write(*s, req, asio::redirect_error(asio::use_awaitable, ec));
      beast::flat_buffer b;
      http::response<http::string_body> res;
      if (!ec) co_await http::async_read(*s, b, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec && pooled && attempt == 0) continue;
      if (!ec && res.result_int() == 200) {
        ++claims_ok_;
      } else {
        ++claims_refused_;
      }
      if (!ec && res.keep_alive()) idle_.push_back(std::move(s));
      co_return;
    }
  }

  const int port_;
  const std::vector<std::string> tokens_;
  const std::chrono::milliseconds ack_min_, ack_max_;
  std::mt19937_64 rng_;  // io thread only
  asio::io_context io_{1};
  std::thread thread_;
  std::vector<std::unique_ptr<beast::tcp_stream>> idle_;  // io thread only
  std::mutex mu_;
  std::condition_variable cv_;
  size_t connected_ = 0;                                           // GUARDED_BY(mu_)
  std::unordered_map<std::string, Clock::time_point> first_seen_;  // GUARDED_BY(mu_)
  std::atomic<size_t> claims_ok_{0}, claims_refused_{0}, offer_events_{0};
};

}  // namespace pahlawan::bench

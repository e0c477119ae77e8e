// Shared parts of the load generators: a spawned server, latency statistics, and an open-loop
// request driver over keep-alive connections (Boost.Beast, one I/O thread so the generator takes one
// core at most and leaves the rest to the server).
//
// Open loop: request i is due at start + offset[i]. A connection that is free takes the next due
// request, waits for its time, sends it and records latency from the *scheduled* time, so a server
// (or generator) that falls behind shows up as latency instead of silently lowering the load.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pahlawan::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

struct Sample {
  double latency_ms = 0;
  int status = 0;
};

struct Stats {
  std::vector<double> ms;
  size_t errors = 0;
  std::map<int, size_t> by_status;
  double seconds = 0;
  Clock::time_point start;  // the moment the offsets count from

  double pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    const size_t i = std::min(ms.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(ms.size())));
    return ms[i];
  }
  void print(const char* what) {
    std::printf("%s: %zu requests in %.3f s = %.0f req/s; errors %zu\n", what, ms.size(), seconds,
                static_cast<double>(ms.size()) / seconds, errors);
    std::printf("  latency ms (from scheduled send): p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", pct(50), pct(99),
                pct(99.9), ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()));
    std::printf("  statuses:");
    for (auto [s, n] : by_status) std::printf(" %d×%zu", s, n);
    std::printf("\n");
  }
};

struct Request {
  std::string method, target, body, token;
};

// Runs `count` requests, request i due at offsets[i] (or as fast as possible when offsets is empty),
// over `connections` keep-alive connections. make(i) builds request i. Returns per-request samples.
inline Stats run_load(int port, size_t count, const std::vector<Clock::duration>& offsets, int connections,
                      const std::function<Request(size_t)>& make,
                      const std::function<void(size_t, int, const std::string&)>& on_reply = {}) {
  asio::io_context io;
  Stats stats;
  stats.ms.reserve(count);
  size_t next = 0;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  stats.start = start;
  const auto endpoint = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port));

  auto worker = [&]() -> asio::awaitable<void> {
    auto stream = std::make_unique<beast::tcp_stream>(io);
    beast::flat_buffer buffer;
    bool connected = false;
    asio::steady_timer timer(io);
    while (next < count) {
      const size_t i = next++;
      const auto due = offsets.empty() ? Clock::now() : start + offsets[i];
      if (!offsets.empty()) {
        timer.expires_at(due);
        co_await timer.async_wait(asio::use_awaitable);
      }
      Request r = make(i);
      int status = 0;
      std::string body;
      for (int attempt = 0; attempt < 2 && status == 0; ++attempt) {
        try {
          if (!connected) {
            co_await stream->async_connect(endpoint, asio::use_awaitable);
            stream->socket().set_option(asio::ip::tcp::no_delay(true));
            connected = true;
          }
          http::request<http::string_body> req{http::string_to_verb(r.method), r.target, 11};
          req.set(http::field::host, "127.0.0.1");
          if (!r.token.empty()) req.set(http::field::authorization, "Bearer " + r.token);
          if (!r.body.empty()) req.set(http::field::content_type, "application/json");
          req.body() = r.body;
          req.prepare_payload();
          co_await http::async_write(*stream, req, asio::use_awaitable);
          http::response<http::string_body> res;
          co_await http::async_read(*stream, buffer, res, asio::use_awaitable);
          status = res.result_int();
          body = std::move(res.body());
          if (!res.keep_alive()) {
            stream->close();
            connected = false;
          }
        } catch (const std::exception&) {
          stream = std::make_unique<beast::tcp_stream>(io);
          buffer.clear();
          connected = false;
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
      stats.ms.push_back(ms);
      stats.by_status[status]++;
      if (status < 200 || status >= 300) stats.errors++;
      if (on_reply) on_reply(i, status, body);
    }
  };
  const auto t0 = Clock::now();
  for (int c = 0; c < connections; ++c) asio::co_spawn(io, worker(), asio::detached);
  io.run();
  stats.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return stats;
}

}  // namespace pahlawan::bench

#include "adapters/http/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/as_tuple.hpp>
#include <boost/beast.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string_view>
#include <tuple>

#include "common/log.h"

namespace pahlawan {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kBodyLimit = 64 * 1024;
constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

// Awaits a callback-style reply from the application; resumes on the session's executor (its strand),
// taken from the completion handler inside the initiation. No executor copy lives in the coroutine's
// co_await temporaries: GCC 12 destroyed such a captured copy twice, which freed the session's strand
// while it was in use (TSan: heap-use-after-free in strand_impl once sessions ran on strands).
asio::awaitable<ApiResponse> await_handler(ApiHandler& handler, ApiRequest req) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(ApiResponse)>(
      [&handler, &req](auto completion) {
        auto ex = asio::get_associated_executor(completion);
        auto shared = std::make_shared<decltype(completion)>(std::move(completion));
        handler.handle(std::move(req), [shared, ex](ApiResponse r) mutable {
          asio::post(ex, [shared, r = std::move(r)]() mutable { std::move (*shared)(std::move(r)); });
        });
      },
      asio::use_awaitable);
}

std::string header(const http::request<http::string_body>& req, http::field f) {
  auto it = req.find(f);
  return it == req.end() ? std::string() : std::string(it->value());
}

std::string header(const http::request<http::string_body>& req, const char* name) {
  auto it = req.find(name);
  return it == req.end() ? std::string() : std::string(it->value());
}

}  // namespace

struct HttpServer::Impl {
  asio::io_context& io;
  ApiHandler& handler;
  SseHub& sse;
  const HttpLimits limits;
  std::atomic<int>& in_flight;
  std::atomic<int> connections{0};
  // On a strand of its own: the accept loop resumes on any I/O thread, and drain() closes the
  // acceptor from another; the strand keeps the two apart. Sessions do not run on it.
  tcp::acceptor acceptor;
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::condition_variable idle;
  // By route (api_routes(), fixed at start, so lookups take no lock) and status class.
  struct RouteMetrics {
    Counter* by_class[3];  // 2xx (and 1xx/3xx), 4xx, 5xx
    Histogram* latency;
  };
  std::map<std::string_view, RouteMetrics> routes;
  Gauge* connections_open;
  Counter* connections_refused;
  Counter* accept_failures;
  Counter* timeouts;

  Impl(asio::io_context& io_, ApiHandler& h, std::atomic<int>& f, MetricsRegistry& m, SseHub& s, HttpLimits l)
      : io(io_),
        handler(h),
        sse(s),
        limits(l),
        in_flight(f),
        acceptor(asio::make_strand(io_)),
        connections_open(&m.gauge("http_connections_open", "Client connections open (event streams included)")),
        connections_refused(&m.counter("http_connections_refused_total",
                                       "Connections answered 503 because --max-connections were open")),
        accept_failures(&m.counter("http_accept_failures_total",
                                   "Failed accepts (e.g. out of file descriptors), each followed by a pause")),
        timeouts(&m.counter("http_timeouts_total",
                            "Connections closed because a request was not read or a write not taken in time")) {
    for (const char* route : api_routes()) {
      const std::string r = "route=\"" + std::string(route) + "\"";
      RouteMetrics rm{};
      const char* classes[] = {"2xx", "4xx", "5xx"};
      for (int i = 0; i < 3; ++i) {
        rm.by_class[i] = &m.counter("http_requests_total", "HTTP requests answered, by route and status class",
                                    r + ",code=\"" + classes[i] + "\"");
      }
      rm.latency =
          &m.histogram("http_request_duration_seconds", "Time from a request's arrival to its answer, by route",
                       {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}, r);
      routes.emplace(route, rm);
    }
  }

  // The stream's deadline passed. Beast reports it as `timeout`, or, for a write that the expired
  // timer cancelled inside a composed operation, as `operation_aborted`; nothing else cancels a
  // session's socket operations.
  static bool timed_out(const beast::error_code& ec) {
    return ec == beast::error::timeout || ec == asio::error::operation_aborted;
  }

  // Counts the answer, and writes its line to the log: method, route, status, duration and the
  // request's trace (never its headers, query or body).
  void count(const http::request<http::string_body>& req, const ApiResponse& resp,
             std::chrono::steady_clock::time_point started) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto it = routes.find(resp.route);
    if (it == routes.end()) it = routes.find("unmatched");
    it->second.by_class[resp.status < 400 ? 0 : resp.status < 500 ? 1 : 2]->inc();
    it->second.latency->observe(seconds);
    if (!log_enabled(LogLevel::kInfo)) return;
    std::string_view trace_id, span_id;
    for (const auto& [k, v] : resp.headers) {
      if (k == "traceparent" && v.size() == 55) {
        trace_id = std::string_view(v).substr(3, 32);
        span_id = std::string_view(v).substr(36, 16);
      }
    }
    log_line(LogLevel::kInfo, "request",
             {{"method", std::string_view(req.method_string())},
              {"route", resp.route},
              {"status", resp.status},
              {"duration_ms", seconds * 1000},
              {"trace_id", trace_id},
              {"span_id", span_id}});
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer pause(acceptor.get_executor());
    for (;;) {
      // Each connection gets a strand of its own: the stream's deadline timer fires on whichever I/O
      // thread is free, and must not close the socket while the session's coroutine uses it.
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), use_nothrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        // Out of file descriptors (EMFILE/ENFILE) or a transient error: accepting again at once
        // would fail again at once and spin a core; the connections we have keep being served.
        accept_failures->inc();
        pause.expires_after(limits.accept_backoff);
        co_await pause.async_wait(use_nothrow);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      if (connections.load() >= limits.max_connections) {
        connections_refused->inc();
        auto ex = socket.get_executor();
        asio::co_spawn(ex, refuse(std::move(socket)), asio::detached);
        continue;
      }
      connections.fetch_add(1);
      connections_open->add(1);
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(std::move(socket)), asio::detached);
    }
  }

  // Over the connection limit: a 503 (best effort, bounded by the write deadline) and close.
  asio::awaitable<void> refuse(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await write(stream, 11, error_response(Status(ErrorCode::kUnavailable, "too many connections")), false, false);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Every write has a deadline: a client that stops reading cannot hold the connection (and the
  // response's memory) forever. A HEAD answer carries the headers of the GET answer and no body.
  asio::awaitable<bool> write(beast::tcp_stream& stream, unsigned version, ApiResponse r, bool keep_alive, bool head) {
    stream.expires_after(limits.write_timeout);
    beast::error_code ec;
    if (head) {
      auto res = headers_of<http::empty_body>(r, version, keep_alive);
      res.content_length(r.body.size());
      std::tie(ec, std::ignore) = co_await http::async_write(stream, res, use_nothrow);
    } else {
      auto res = headers_of<http::string_body>(r, version, keep_alive);
      res.body() = std::move(r.body);
      res.prepare_payload();
      std::tie(ec, std::ignore) = co_await http::async_write(stream, res, use_nothrow);
    }
    if (timed_out(ec)) timeouts->inc();
    co_return !ec;
  }

  // A response with the answer's status and headers (and ours), no body yet.
  template <class Body>
  static http::response<Body> headers_of(const ApiResponse& r, unsigned version, bool keep_alive) {
    http::response<Body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "pahlawan");
    res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    return res;
  }

  // One event-stream frame or heartbeat, under the write deadline.
  asio::awaitable<bool> write_frame(beast::tcp_stream& stream, std::string_view frame) {
    stream.expires_after(limits.write_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(frame), use_nothrow);
    if (timed_out(ec)) timeouts->inc();
    co_return !ec;
  }

  // Keeps the connection open and writes the stream's frames as they come, with heartbeats, until the
  // client goes away or the server drains. The body is delimited by closing the connection.
  asio::awaitable<void> stream_events(beast::tcp_stream& stream, unsigned version, ApiResponse resp) {
    auto events = std::move(resp.sse);
    auto head = headers_of<http::empty_body>(resp, version, false);  // status 200, set by the handler
    http::response_serializer<http::empty_body> sr{head};
    stream.expires_after(limits.write_timeout);
    auto [hec, hn] = co_await http::async_write_header(stream, sr, use_nothrow);
    auto ex = co_await asio::this_coro::executor;  // this connection's strand
    // A doorbell the hub rings from the relay thread. The ring is posted to this connection's strand,
    // where it sets a flag and cuts the heartbeat's wait short: no part of the wait is touched from
    // another thread. (It was a concurrent channel raced against the heartbeat timer with asio's
    // experimental `||`, cancelled across threads, which asio has crash reports about — a suspect of
    // the one heap corruption seen in a replica under the rescue herd, docs/replicas.md.)
    struct Bell {
      explicit Bell(const asio::any_io_executor& e) : wait(e) {}
      asio::steady_timer wait;
      bool rung = false;
    };
    auto bell = std::make_shared<Bell>(ex);
    events->on_wake([ex, weak = std::weak_ptr<Bell>(bell)] {
      asio::post(ex, [weak] {
        if (auto b = weak.lock()) {
          b->rung = true;
          b->wait.cancel();
        }
      });
    });
    bool ok = !hec;
    while (ok) {
      std::vector<std::string> frames;
      const bool open = events->take(frames);
      for (const auto& f : frames) {
        ok = co_await write_frame(stream, f);
        if (!ok) break;
      }
      if (!ok || !open || draining.load()) break;
      if (!bell->rung) {
        bell->wait.expires_after(limits.sse_heartbeat);
        auto [cut_short] = co_await bell->wait.async_wait(use_nothrow);
        // Quiet for a while: a comment line keeps proxies from closing the connection.
        if (!cut_short && !bell->rung) ok = co_await write_frame(stream, ": heartbeat\n\n");
      }
      bell->rung = false;  // rung: take what came (a ring while writing is not lost: the flag held it)
    }
    events->on_wake(nullptr);
    sse.close(events);
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      parser.header_limit(16 * 1024);
      // Idle between requests for up to idle_timeout; once the first byte is in, the whole request
      // must follow within request_timeout (a client trickling a byte a second is cut off).
      if (buffer.size() == 0) {
        stream.expires_after(limits.idle_timeout);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), use_nothrow);
        if (ec) break;
        buffer.commit(n);
      }
      stream.expires_after(limits.request_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_nothrow);
      if (ec) {
        if (ec == http::error::body_limit) {
          co_await write(stream, 11, error_response(Status(ErrorCode::kPayloadTooLarge, "request body over 64 KiB")),
                         false, false);
        } else if (timed_out(ec)) {
          timeouts->inc();
        } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
                   ec != http::error::end_of_stream && ec != http::error::partial_message) {
          co_await write(stream, 11, error_response(invalid("malformed HTTP request")), false, false);
        }
        break;
      }
      stream.expires_never();
      const auto started = std::chrono::steady_clock::now();
      auto& req = parser.get();
      const bool draining_now = draining.load();
      ApiResponse resp;
      if (draining_now) {
        resp = error_response(Status(ErrorCode::kUnavailable, "server is draining"));
      } else {
        ApiRequest api;
        api.method = std::string(req.method_string());
        api.target = std::string(req.target());
        api.body = std::move(req.body());
        api.authorization = header(req, http::field::authorization);
        api.duplicate_authorization = req.count(http::field::authorization) > 1;
        api.if_match = header(req, http::field::if_match);
        api.idempotency_key = header(req, "Idempotency-Key");
        api.traceparent = header(req, "traceparent");
        api.tracestate = header(req, "tracestate");
        api.last_event_id = header(req, "Last-Event-ID");
        api.forwarded = !header(req, "X-Pahlawan-Forwarded").empty();
        in_flight.fetch_add(1);
        resp = co_await await_handler(handler, std::move(api));
        if (in_flight.fetch_sub(1) == 1) {
          std::lock_guard lock(mu);
          idle.notify_all();
        }
      }
      if (resp.drop_connection) break;  // the outcome is unknown here: no answer rather than a wrong one
      count(req, resp, started);
      if (resp.sse) {
        co_await stream_events(stream, req.version(), std::move(resp));
        break;
      }
      const bool keep_alive = req.keep_alive() && !draining.load();
      const bool written =
          co_await write(stream, req.version(), std::move(resp), keep_alive, req.method() == http::verb::head);
      if (!written || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.fetch_sub(1);
    connections_open->add(-1);
  }
};

HttpServer::HttpServer(asio::io_context& io, ApiHandler& handler, MetricsRegistry& metrics, SseHub& sse,
                       HttpLimits limits)
    : impl_(std::make_unique<Impl>(io, handler, in_flight_, metrics, sse, limits)) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::listen(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return invalid("--listen must be host:port");
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(host_port.substr(colon + 1));
  } catch (...) {
    return invalid("--listen port must be a number");
  }
  if (port < 0 || port > 65535) return invalid("--listen port must be in 0..65535");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return invalid("--listen host must be an IP address: " + ec.message());
  auto& a = impl_->acceptor;
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(ErrorCode::kUnavailable, "cannot listen on " + host_port + ": " + ec.message());
  const int bound = a.local_endpoint().port();
  asio::co_spawn(a.get_executor(), impl_->accept_loop(), asio::detached);
  return bound;
}

void HttpServer::drain(std::chrono::milliseconds timeout) {
  impl_->draining = true;
  impl_->sse.close_all();
  asio::post(impl_->acceptor.get_executor(), [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::unique_lock lock(impl_->mu);
  impl_->idle.wait_for(lock, timeout, [&] { return in_flight_.load() == 0; });
}

}  // namespace pahlawan

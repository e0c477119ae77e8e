#include "adapters/routing/osrm_route_estimator.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <optional>

#include "adapters/routing/osrm_table.h"
#include "common/fault.h"
#include "common/thread_name.h"

namespace pahlawan {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One table request. Lives on the estimator's thread; owned by the handlers it has outstanding (each
// holds a shared_ptr), so it is freed when the last of them has run — after answer() has closed the
// socket (or handed it back to the pool) and cancelled the timer, that is promptly.
class OsrmRouteEstimator::Call : public std::enable_shared_from_this<Call> {
 public:
  Call(OsrmRouteEstimator& owner, std::string target, size_t destinations, RouteCallback done)
      : owner_(owner), resolver_(owner.io_), deadline_(owner.io_), destinations_(destinations), done_(std::move(done)) {
    request_.version(11);
    request_.method(http::verb::get);
    request_.target(target);
    request_.set(http::field::host, owner.host_);
    request_.set(http::field::user_agent, "pahlawan");
    request_.keep_alive(true);
  }

  void start() {
    owner_.live_.insert(this);
    deadline_.expires_after(owner_.options_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->fail("no answer within the deadline");
    });
    if (!owner_.idle_.empty()) {
      stream_ = std::move(owner_.idle_.back());
      owner_.idle_.pop_back();
      reused_ = true;
      return send();
    }
    connect_fresh();
  }

  void fail(const std::string& why) { answer(Status(ErrorCode::kUnavailable, "routing: " + why)); }

  // Answers a call that never started (any thread): it holds no socket or timer in use yet.
  void refuse(const std::string& why) {
    answered_ = true;
    owner_.in_flight_.fetch_sub(1);
    auto done = std::move(done_);
    done(Status(ErrorCode::kUnavailable, why));
  }

 private:
  void connect_fresh() {
    reused_ = false;
    stream_ = std::make_unique<beast::tcp_stream>(owner_.io_);
    resolver_.async_resolve(owner_.host_, owner_.port_,
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              if (self->answered_) return;
                              if (ec) return self->fail("cannot resolve the router: " + ec.message());
                              self->stream_->async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
                                if (self->answered_) return;
                                if (ec) return self->fail("cannot connect to the router: " + ec.message());
                                self->send();
                              });
                            });
  }

  void send() {
    http::async_write(*stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->answered_) return;
      if (ec) return self->retry_or_fail("cannot send to the router: " + ec.message());
      self->read();
    });
  }

  void read() {
    buffer_.clear();
    parser_.emplace();
    parser_->body_limit(4 * 1024 * 1024);
    http::async_read(*stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->answered_) return;
      if (ec) return self->retry_or_fail("no complete answer from the router: " + ec.message());
      // Error: the router's answer is lost on the way; the call's deadline must still answer it.
      if (PP_FAULT("router.lost_answer")) return;
      const auto& res = self->parser_->get();
      self->keep_ = res.keep_alive();
      // OSRM answers its own errors (no route table, bad query) as JSON with 4xx; any non-200 is a
      // failure of the call either way.
      if (res.result() != http::status::ok) {
        return self->fail("router answered HTTP " + std::to_string(res.result_int()));
      }
      self->answer(parse_osrm_table(res.body(), self->destinations_));
    });
  }

  // A pooled connection may have been closed by the router while it sat idle; that is no verdict on
  // the router, so the request goes once more over a fresh connection (within the same deadline).
  void retry_or_fail(const std::string& why) {
    if (!reused_) return fail(why);
    beast::error_code ignored;
    stream_->socket().close(ignored);
    connect_fresh();
  }

  // Answers exactly once, and releases everything the call holds in the reactor: pending handlers
  // then run with operation_aborted and drop their references. A connection that answered in full
  // and may stay open goes back to the pool.
  void answer(RouteAnswer result) {
    if (answered_) return;
    answered_ = true;
    owner_.live_.erase(this);
    deadline_.cancel();
    resolver_.cancel();
    if (stream_) {
      if (keep_ && owner_.idle_.size() < owner_.options_.max_idle_connections) {
        owner_.idle_.push_back(std::move(stream_));
      } else {
        beast::error_code ignored;
        stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_->socket().close(ignored);
      }
    }
    owner_.in_flight_.fetch_sub(1);
    auto done = std::move(done_);
    done(std::move(result));
  }

  OsrmRouteEstimator& owner_;
  tcp::resolver resolver_;
  std::unique_ptr<beast::tcp_stream> stream_;
  asio::steady_timer deadline_;
  http::request<http::empty_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  const size_t destinations_;
  RouteCallback done_;
  bool answered_ = false;
  bool reused_ = false;  // stream_ came from the pool
  bool keep_ = false;    // the router's answer allows another request on stream_
};

Result<std::unique_ptr<OsrmRouteEstimator>> OsrmRouteEstimator::create(OsrmOptions options) {
  auto url = boost::urls::parse_absolute_uri(options.url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "--routing-url must be http://host[:port][/prefix], got '" + options.url + "'");
  }
  std::string port = url->has_port() ? std::string(url->port()) : "80";
  std::string prefix(url->encoded_path());
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  std::string host(url->host());
  return std::unique_ptr<OsrmRouteEstimator>(
      new OsrmRouteEstimator(std::move(options), std::move(host), std::move(port), std::move(prefix)));
}

OsrmRouteEstimator::OsrmRouteEstimator(OsrmOptions options, std::string host, std::string port, std::string prefix)
    : options_(std::move(options)),
      host_(std::move(host)),
      port_(std::move(port)),
      prefix_(std::move(prefix)),
      work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] {
    name_this_thread("pp-osrm");
    io_.run();
  });
}

OsrmRouteEstimator::~OsrmRouteEstimator() {
  stop();
}

void OsrmRouteEstimator::estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations,
                                  RouteCallback done) {
  if (destinations.empty()) return done(std::vector<RouteEstimate>{});
  if (in_flight_.fetch_add(1) >= static_cast<int64_t>(options_.max_in_flight)) {
    in_flight_.fetch_sub(1);
    return done(Status(ErrorCode::kUnavailable, "routing: too many calls in flight"));
  }
  // Built before taking the lock, which every match passes through.
  auto call = std::make_shared<Call>(*this, osrm_table_target(prefix_, options_.profile, origin, destinations),
                                     destinations.size(), std::move(done));
  std::unique_lock lock(stop_mu_);
  if (stopped_) {
    lock.unlock();
    return call->refuse("routing: shutting down");
  }
  asio::post(io_, [call] { call->start(); });
}

void OsrmRouteEstimator::stop() {
  {
    std::lock_guard lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    // Posted under the lock: every call posted before stop() is started before this runs.
    asio::post(io_, [this] {
      std::vector<Call*> live(live_.begin(), live_.end());
      for (Call* c : live) c->fail("shutting down");
      idle_.clear();  // closes the pooled connections
    });
  }
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pahlawan

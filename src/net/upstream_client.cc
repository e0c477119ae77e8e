#include "net/upstream_client.h"

#include <strings.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "common/fault.h"
#include "common/thread_name.h"

namespace pahlawan {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

const std::string* UpstreamResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return &v;
  }
  return nullptr;
}

// One request. Lives on the client's thread; owned by the handlers it has outstanding (each holds a
// shared_ptr), so it is freed when the last of them has run — after answer() has closed the socket
// (or handed it back to the pool) and cancelled the timer, that is promptly.
class UpstreamClient::Call : public std::enable_shared_from_this<Call> {
 public:
  Call(UpstreamClient& owner, std::string host, std::string port, UpstreamRequest req, UpstreamDone done)
      : owner_(owner),
        host_(std::move(host)),
        port_(std::move(port)),
        key_(host_ + ":" + port_),
        resolver_(owner.io_),
        deadline_(owner.io_),
        repeatable_(req.repeatable),
        done_(std::move(done)) {
    request_.version(11);
    request_.method_string(req.method);
    request_.target(req.target);
    request_.set(http::field::host, host_);
    request_.set(http::field::user_agent, "pahlawan");
    for (const auto& [k, v] : req.headers) request_.set(k, v);
    request_.body() = std::move(req.body);
    if (!request_.body().empty() || req.method == "POST" || req.method == "PUT") request_.prepare_payload();
    request_.keep_alive(true);
  }

  void start() {
    owner_.live_.insert(this);
    deadline_.expires_after(owner_.options_.timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->fail("no answer within the deadline");
    });
    if (take_pooled()) return send();
    connect_fresh();
  }

  void fail(const std::string& why) {
    answer(Status(sent_ ? ErrorCode::kInternal : ErrorCode::kUnavailable, owner_.options_.what + ": " + why));
  }

  // Answers a call that never started (any thread): it holds no socket or timer in use yet.
  void refuse(const std::string& why) {
    answered_ = true;
    owner_.in_flight_.fetch_sub(1);
    auto done = std::move(done_);
    done(Status(ErrorCode::kUnavailable, owner_.options_.what + ": " + why));
  }

 private:
  // The most recently pooled connection that has not sat idle too long; older ones are closed.
  bool take_pooled() {
    auto it = owner_.idle_.find(key_);
    if (it == owner_.idle_.end()) return false;
    const auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      Idle idle = std::move(it->second.back());
      it->second.pop_back();
      if (now - idle.since <= owner_.options_.max_idle_age) {
        stream_ = std::move(idle.stream);
        reused_ = true;
        return true;
      }
      beast::error_code ignored;
      idle.stream->socket().close(ignored);
    }
    return false;
  }

  void connect_fresh() {
    reused_ = false;
    stream_ = std::make_unique<beast::tcp_stream>(owner_.io_);
    resolver_.async_resolve(host_, port_,
                            [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              if (self->answered_) return;
                              if (ec) return self->fail("cannot resolve " + self->key_ + ": " + ec.message());
                              self->stream_->async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
                                if (self->answered_) return;
                                if (ec) return self->fail("cannot connect to " + self->key_ + ": " + ec.message());
                                self->send();
                              });
                            });
  }

  void send() {
    http::async_write(*stream_, request_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->answered_) return;
      if (ec) return self->retry_or_fail("cannot send to " + self->key_ + ": " + ec.message());
      self->sent_ = true;
      self->read();
    });
  }

  void read() {
    buffer_.clear();
    parser_.emplace();
    parser_->body_limit(owner_.options_.body_limit);
    http::async_read(*stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->answered_) return;
      if (ec) return self->retry_or_fail("no complete answer from " + self->key_ + ": " + ec.message());
      // Error: the answer is lost on the way; the call's deadline must still answer it.
      if (PP_FAULT("router.lost_answer")) return;
      auto& res = self->parser_->get();
      self->keep_ = res.keep_alive();
      UpstreamResponse out;
      out.status = static_cast<int>(res.result_int());
      for (const auto& field : res) out.headers.emplace_back(field.name_string(), field.value());
      out.body = std::move(res.body());
      self->answer(std::move(out));
    });
  }

  // A pooled connection may have been closed by the other side while it sat idle; that is no verdict
  // on the upstream, so a repeatable request goes once more over a fresh connection.
  void retry_or_fail(const std::string& why) {
    if (!reused_ || !repeatable_) return fail(why);
    beast::error_code ignored;
    stream_->socket().close(ignored);
    sent_ = false;  // the retry is a new request: what the broken connection took is not an answer
    connect_fresh();
  }

  // Answers exactly once, and releases everything the call holds in the reactor: pending handlers
  // then run with operation_aborted and drop their references. A connection that answered in full
  // and may stay open goes back to the pool.
  void answer(Result<UpstreamResponse> result) {
    if (answered_) return;
    answered_ = true;
    owner_.live_.erase(this);
    deadline_.cancel();
    resolver_.cancel();
    if (stream_) {
      auto& pool = owner_.idle_[key_];
      if (keep_ && pool.size() < owner_.options_.max_idle_connections) {
        pool.push_back(Idle{std::move(stream_), std::chrono::steady_clock::now()});
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

  UpstreamClient& owner_;
  const std::string host_, port_, key_;
  tcp::resolver resolver_;
  std::unique_ptr<beast::tcp_stream> stream_;
  asio::steady_timer deadline_;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
  const bool repeatable_;
  UpstreamDone done_;
  bool answered_ = false;
  bool reused_ = false;  // stream_ came from the pool
  bool keep_ = false;    // the answer allows another request on stream_
  bool sent_ = false;    // the request was written in full: the other side may act on it
};

UpstreamClient::UpstreamClient(UpstreamOptions options, const char* thread_name)
    : options_(std::move(options)), work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this, thread_name] {
    name_this_thread(thread_name);
    io_.run();
  });
}

UpstreamClient::~UpstreamClient() {
  stop();
}

void UpstreamClient::send(std::string host, std::string port, UpstreamRequest request, UpstreamDone done) {
  if (in_flight_.fetch_add(1) >= static_cast<int64_t>(options_.max_in_flight)) {
    in_flight_.fetch_sub(1);
    return done(Status(ErrorCode::kUnavailable, options_.what + ": too many calls in flight"));
  }
  auto call = std::make_shared<Call>(*this, std::move(host), std::move(port), std::move(request), std::move(done));
  std::unique_lock lock(stop_mu_);
  if (stopped_) {
    lock.unlock();
    return call->refuse("shutting down");
  }
  asio::post(io_, [call] { call->start(); });
}

void UpstreamClient::stop() {
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

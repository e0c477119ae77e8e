// UpstreamClient: HTTP/1.1 requests to other servers — the OSRM router, and another replica that a
// request is forwarded to — asynchronous, on a thread of its own (one io_context, one thread,
// however many calls): send() only posts the call; the answer comes on that thread.
//
// Every call has a deadline covering resolve, connect, send and answer; when it passes, the call is
// answered kUnavailable at once and its socket and timer are closed, so timed-out calls leave
// nothing behind. Calls beyond max_in_flight are refused at once (an upstream that slow is as good as
// down, and memory stays bounded). Connections are kept alive and reused, per host and port; one
// idle longer than max_idle_age is closed rather than reused (the other side may have closed it).
// A request that fails on a pooled connection is sent once more on a fresh one within the same
// deadline only if the caller says it may be repeated (`repeatable`): a POST the other side may have
// applied before the connection broke is not sent twice.
//
// A failure before the request was sent in full (resolve, connect, send, refused, shutting down) is
// kUnavailable: the other side did nothing. A failure after (no complete answer, the deadline) is
// kInternal: the other side may have acted on it, and the caller must not say it did not.
//
// Lifetime: stop() (or the destructor) answers every call still in flight with kUnavailable and joins
// the thread; calls made after stop() are answered kUnavailable at once. Whoever receives answers
// must outlive stop(). Thread-safety: send() and stop() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/unique_function.h"

namespace pahlawan {

struct UpstreamRequest {
  std::string method = "GET";
  std::string target;  // origin-form: path and query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool repeatable = true;  // may be sent again after a pooled connection failed (see above)
};

struct UpstreamResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  const std::string* header(const std::string& name) const;  // case-insensitive; null: absent
};

using UpstreamDone = UniqueFunction<void(Result<UpstreamResponse>)>;

struct UpstreamOptions {
  Millis timeout{1000};
  size_t max_in_flight = 512;
  size_t max_idle_connections = 32;  // per host and port
  Millis max_idle_age{2000};
  size_t body_limit = 4 * 1024 * 1024;
  std::string what = "upstream";  // how failures name the other side ("routing", "replica")
};

class UpstreamClient {
 public:
  explicit UpstreamClient(UpstreamOptions options, const char* thread_name = "pp-upstream");
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  void send(std::string host, std::string port, UpstreamRequest request, UpstreamDone done);
  void stop();
  // Calls made and not yet answered.
  int64_t in_flight() const { return in_flight_.load(); }
  const UpstreamOptions& options() const { return options_; }

 private:
  class Call;
  struct Idle {
    std::unique_ptr<boost::beast::tcp_stream> stream;
    std::chrono::steady_clock::time_point since;
  };

  const UpstreamOptions options_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<int64_t> in_flight_{0};
  std::mutex stop_mu_;
  bool stopped_ = false;                           // GUARDED_BY(stop_mu_)
  std::unordered_set<Call*> live_;                 // io thread only: calls not yet answered
  std::map<std::string, std::vector<Idle>> idle_;  // io thread only: keep-alive pools by host:port
  std::thread thread_;
};

}  // namespace pahlawan

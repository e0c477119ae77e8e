// OsrmRouteEstimator: travel times from an OSRM server's table service — one HTTP request ranks every
// candidate of one match (see osrm_table.h for the wire format).
//
// Asynchronous on a thread of its own (one io_context, one thread, however many calls): estimate()
// only posts the call; the answer comes on that thread. Every call has a deadline covering resolve,
// connect, send and answer; when it passes, the call is answered kUnavailable at once and its socket
// and timer are closed, so timed-out calls leave nothing behind. Calls beyond max_in_flight are
// refused at once (a router that slow is as good as down, and memory stays bounded). Connections are
// kept alive and reused (up to max_idle_connections wait in a pool); a request that fails on a pooled
// connection — the router may have closed it while idle — is sent once more on a fresh one within the
// same deadline. A call that times out closes its connection rather than pooling it.
//
// Lifetime: stop() (or the destructor) answers every call still in flight with kUnavailable and joins
// the thread; calls made after stop() are answered kUnavailable at once. Whoever receives answers
// must outlive stop(). Thread-safety: estimate() and stop() from any thread.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "ports/route_estimator.h"

namespace pahlawan {

struct OsrmOptions {
  std::string url;  // http://host[:port][/prefix]
  std::string profile = "driving";
  Millis timeout{1000};
  size_t max_in_flight = 512;
  size_t max_idle_connections = 32;
};

class OsrmRouteEstimator final : public RouteEstimator {
 public:
  // Fails (kInvalidRequest) on a URL that is not plain http://host[:port][/prefix].
  static Result<std::unique_ptr<OsrmRouteEstimator>> create(OsrmOptions options);
  ~OsrmRouteEstimator() override;

  void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) override;
  const char* name() const override { return "osrm"; }
  void stop();

  // Calls made and not yet answered.
  int64_t in_flight() const { return in_flight_.load(); }

 private:
  class Call;
  OsrmRouteEstimator(OsrmOptions options, std::string host, std::string port, std::string prefix);

  const OsrmOptions options_;
  const std::string host_, port_, prefix_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::atomic<int64_t> in_flight_{0};
  std::mutex stop_mu_;
  bool stopped_ = false;                                         // GUARDED_BY(stop_mu_)
  std::unordered_set<Call*> live_;                               // io thread only: calls not yet answered
  std::vector<std::unique_ptr<boost::beast::tcp_stream>> idle_;  // io thread only: the keep-alive pool
  std::thread thread_;
};

}  // namespace pahlawan

// HttpServer: HTTP/1.1 over Boost.Beast with C++20 coroutines, one session coroutine per connection,
// keep-alive, a 64 KiB body limit (413), and a graceful drain.
//
// The server runs on the io_context it is given (whose threads the caller runs). drain() stops
// accepting, answers new requests on open connections with 503 and closes them, and returns once
// every request already being handled has been answered, so nothing acknowledged is cut off; open
// event streams (SSE) are ended.
// Thread-safety: start()/drain() from one controlling thread; sessions run on the io_context.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "adapters/http/api_handler.h"

namespace boost::asio {
class io_context;
}

namespace pahlawan {

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ApiHandler& handler, MetricsRegistry& metrics, SseHub& sse);
  ~HttpServer();

  // Binds "host:port" (port 0: any free port). Returns the bound port.
  Result<int> listen(const std::string& host_port);
  // Stops accepting; waits (up to `timeout`) until no request is in flight. Blocking: call it from
  // a thread that is not running the io_context.
  void drain(std::chrono::milliseconds timeout);
  int in_flight() const { return in_flight_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> in_flight_{0};
};

}  // namespace pahlawan

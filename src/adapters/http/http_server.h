// HttpServer: HTTP/1.1 over Boost.Beast with C++20 coroutines, one session coroutine per connection,
// keep-alive, a 64 KiB body limit (413), and a graceful drain.
//
// A hostile or broken client can hold nothing for long: a keep-alive connection may sit idle for
// `idle_timeout` before its next request, but once a request's first byte has arrived the whole
// request (header and body) must arrive within `request_timeout`, and every write (a response, an
// event-stream frame, a heartbeat) must finish within `write_timeout`. Connections beyond
// `max_connections` are answered 503 and closed at once. An accept that fails (out of file
// descriptors) is retried after a pause instead of spinning.
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

struct HttpLimits {
  std::chrono::milliseconds idle_timeout{75000};     // keep-alive wait for the next request's first byte
  std::chrono::milliseconds request_timeout{10000};  // first byte → whole request read
  std::chrono::milliseconds write_timeout{10000};    // each write to the client
  std::chrono::milliseconds accept_backoff{100};     // pause after a failed accept (EMFILE)
  std::chrono::milliseconds sse_heartbeat{10000};    // an event stream quiet this long gets a comment line
  int max_connections = 10000;                       // beyond this: 503 and close
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ApiHandler& handler, MetricsRegistry& metrics, SseHub& sse,
             HttpLimits limits = {});
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

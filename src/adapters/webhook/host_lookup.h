// HostLookup: name resolution with a deadline for the webhook sender.
//
// getaddrinfo cannot be cancelled, and Asio's async_resolve runs it on a hidden thread that the
// io_context joins when it is destroyed — so a receiver whose DNS server does not answer used to hold
// a delivery worker for as long as the resolver library kept retrying, past the attempt's timeout.
// Here lookups run on their own few threads and the caller waits at most until its deadline; a lookup
// still running then keeps a lookup thread, not the caller. At most `max_pending` lookups wait or run
// at once: beyond that a lookup fails at once (the delivery is retried later like any failure).
// Thread-safety: resolve() from any thread.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/executor.h"

namespace pahlawan {

// Resolves a host name to its addresses; empty when it does not resolve. May block.
using ResolveFn = std::function<std::vector<boost::asio::ip::address>(const std::string& host)>;

// The system resolver (getaddrinfo, through Asio), blocking.
std::vector<boost::asio::ip::address> system_resolve(const std::string& host);

class HostLookup {
 public:
  explicit HostLookup(ResolveFn resolve = system_resolve, unsigned threads = 2, int max_pending = 64);
  ~HostLookup();  // waits for lookups still running
  // The addresses of `host`; empty if it did not resolve before `deadline`, or too many lookups are out.
  std::vector<boost::asio::ip::address> resolve(const std::string& host,
                                                std::chrono::steady_clock::time_point deadline);
  int pending() const { return pending_->load(); }

 private:
  ResolveFn resolve_;
  const int max_pending_;
  std::shared_ptr<std::atomic<int>> pending_ = std::make_shared<std::atomic<int>>(0);
  ThreadPool pool_;
};

}  // namespace pahlawan

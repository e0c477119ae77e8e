#include "adapters/webhook/host_lookup.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <mutex>

namespace pahlawan {

std::vector<boost::asio::ip::address> system_resolve(const std::string& host) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  const auto results = resolver.resolve(host, "", ec);
  std::vector<boost::asio::ip::address> out;
  if (ec) return out;
  for (const auto& r : results) out.push_back(r.endpoint().address());
  return out;
}

HostLookup::HostLookup(ResolveFn resolve, unsigned threads, int max_pending)
    : resolve_(std::move(resolve)), max_pending_(max_pending), pool_(threads) {}

HostLookup::~HostLookup() {
  pool_.stop();
}

std::vector<boost::asio::ip::address> HostLookup::resolve(const std::string& host,
                                                          std::chrono::steady_clock::time_point deadline) {
  // Shared with the lookup thread, which may finish after this caller has given up.
  struct Slot {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::vector<boost::asio::ip::address> addresses;
  };
  if (pending_->fetch_add(1) >= max_pending_) {
    pending_->fetch_sub(1);
    return {};
  }
  auto slot = std::make_shared<Slot>();
  pool_.post([slot, host, resolve = resolve_, pending = pending_] {
    auto addresses = resolve(host);
    {
      std::lock_guard lock(slot->mu);
      slot->addresses = std::move(addresses);
      slot->done = true;
    }
    slot->cv.notify_all();
    pending->fetch_sub(1);
  });
  std::unique_lock lock(slot->mu);
  if (!slot->cv.wait_until(lock, deadline, [&] { return slot->done; })) return {};
  return std::move(slot->addresses);
}

}  // namespace pahlawan

// Small helpers of the process-level tests: a free loopback port (for a server that must be told
// its address before it listens, such as a replica the others forward to), and a bounded poll of a
// condition that other processes make true.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace pahlawan::testing {

// A loopback port free now (bound, read, closed).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Polls `check` (it reads other processes' state) every 50 ms until it holds, for at most `seconds`.
inline bool eventually(const std::function<bool()>& check, int seconds = 30) {
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
       std::chrono::steady_clock::now() < until;) {
    if (check()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a bounded poll, not a sync
  }
  return false;
}

}  // namespace pahlawan::testing

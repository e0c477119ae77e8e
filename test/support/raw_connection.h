// RawConnection: a plain TCP client socket for tests that must speak HTTP the way a broken or
// hostile client does (trickled headers, pipelined requests it never reads, HEAD framing).
// Every wait is bounded by a timeout. Not thread-safe: one per thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

namespace pahlawan::testing {

class RawConnection {
 public:
  // receive_buffer > 0 sets SO_RCVBUF before connecting (a client that reads slowly).
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends as much of `data` as the socket takes without blocking; returns the bytes sent.
  size_t send_some(const std::string& data);
  // Sends all of `data` (blocking).
  bool send_all(const std::string& data);
  // Reads what arrives until the peer closes or `timeout` passes with nothing new; true if closed.
  bool read_until_closed(std::string& out, std::chrono::milliseconds timeout);
  // Reads until `out` contains `marker`, the peer closes, or `timeout` passes; true if found.
  bool read_until(std::string& out, const std::string& marker, std::chrono::milliseconds timeout);
  // True once the peer has closed (waits up to `timeout`, discarding what arrives meanwhile).
  bool closed_within(std::chrono::milliseconds timeout);

 private:
  static constexpr ssize_t kTimedOut = -2;
  // One recv once the socket is readable, or kTimedOut at the deadline.
  ssize_t recv_before(std::chrono::steady_clock::time_point deadline, char* buf, size_t size);
  int fd_ = -1;
};

}  // namespace pahlawan::testing

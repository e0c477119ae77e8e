// FakeOsrmServer: a local stand-in for an OSRM router, for the routing client's tests. Listens on
// 127.0.0.1 (an ephemeral port) on a thread of its own and answers table requests the way the test
// says: in OSRM's JSON format (durations = great-circle metres / 10 m/s, or reversed so the farthest
// is quickest, or with the last destination unreachable), late, with an HTTP error, with an OSRM error code, with
// garbage, with a row of the wrong length, or not at all (it reads the request and holds the connection open).
// Thread-safety: every method from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace pahlawan::testing {

class FakeOsrmServer {
 public:
  enum class Mode {
    kOk,
    kFarthestFastest,  // as if a ring road made the farthest destination the quickest to reach
    kLastUnreachable,
    kSlow,
    kHttpError,
    kOsrmError,
    kGarbage,
    kWrongLength,
    kSilent
  };

  FakeOsrmServer();
  ~FakeOsrmServer();

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_mode(Mode m) { mode_ = m; }
  void set_slow_delay(std::chrono::milliseconds d) { slow_delay_ = d; }

  // Every response says "Connection: close" and the connection ends (as an HTTP/1.0 router would).
  void set_close_after_answer(bool v) { close_after_answer_ = v; }
  // Closes every connection waiting for its next request, as a router does with idle keep-alive
  // connections; returns once they are closed.
  void close_idle_connections();

  int requests() const { return requests_.load(); }
  int connections_accepted() const { return accepted_.load(); }
  std::string last_target() const;
  int open_connections() const { return open_.load(); }
  // Waits until no connection is open (the client closed every one); false after `limit`.
  bool wait_until_idle(std::chrono::milliseconds limit);

  // The answer kOk gives for one destination (what the tests compare against).
  static double seconds_for(double from_lat, double from_lon, double to_lat, double to_lon);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<Mode> mode_{Mode::kOk};
  std::atomic<std::chrono::milliseconds> slow_delay_{std::chrono::milliseconds(500)};
  std::atomic<int> requests_{0};
  std::atomic<int> accepted_{0};
  std::atomic<bool> close_after_answer_{false};
  std::atomic<int> open_{0};
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::string last_target_;  // GUARDED_BY(mu_)
  friend struct Connection;
};

}  // namespace pahlawan::testing

// RedisServerProcess: a real redis-server (Debian's) for one test, on a free loopback port, with no
// persistence: stop() and start() again keep the port and lose the data — how a test takes the hot
// copy away and brings it back empty, as a restarted cache node would. Also runs commands for
// assertions.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace pahlawan::testing {

class RedisServerProcess {
 public:
  RedisServerProcess();
  ~RedisServerProcess();
  RedisServerProcess(const RedisServerProcess&) = delete;
  RedisServerProcess& operator=(const RedisServerProcess&) = delete;

  void start();  // returns once it answers PING
  void stop();   // SIGKILL (a lost cache node), then waits for it to exit
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0; }
  // One command; its reply as text (an integer as digits, an array as its elements joined by '\n',
  // nil as ""). Throws if the server cannot be reached.
  std::string command(const std::vector<std::string>& args) const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pahlawan::testing

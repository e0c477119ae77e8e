// NatsServerProcess: a real nats-server (Debian's, with JetStream) for one test, on a free loopback
// port with its storage in a temp directory. stop() and start() again keep the port and the storage:
// how a test takes the bus away and brings it back. Also reads a stream back for assertions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace pahlawan::testing {

class NatsServerProcess {
 public:
  NatsServerProcess();
  ~NatsServerProcess();
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  void start();  // returns once it accepts connections
  void stop();   // SIGTERM, then waits for it to exit
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  bool running() const { return pid_ > 0; }

  struct Message {
    uint64_t seq;
    std::string subject, data;
    std::map<std::string, std::string> headers;
  };
  // Every message of a stream, in stream order (empty if the stream does not exist).
  std::vector<Message> read_stream(const std::string& stream) const;

 private:
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pahlawan::testing

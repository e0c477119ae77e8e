// NginxProcess: Debian's nginx in the foreground for one test, with the deployment's configuration
// (deploy/nginx/pahlawan.conf) rendered into a temp prefix: round robin over the given replicas'
// ports, on a free loopback port. Stopped gracefully (SIGQUIT) so its access log is complete.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace pahlawan::testing {

class NginxProcess {
 public:
  explicit NginxProcess(const std::vector<int>& upstream_ports);  // returns once it accepts connections
  ~NginxProcess();
  NginxProcess(const NginxProcess&) = delete;
  NginxProcess& operator=(const NginxProcess&) = delete;

  int port() const { return port_; }
  std::string access_log() const;

 private:
  int port_;
  std::filesystem::path prefix_;
  pid_t pid_ = -1;
};

}  // namespace pahlawan::testing

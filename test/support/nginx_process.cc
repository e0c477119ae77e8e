#include "nginx_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "polling.h"
#include "text_file.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return up;
}

}  // namespace

NginxProcess::NginxProcess(const std::vector<int>& upstream_ports) : port_(free_loopback_port()) {
  prefix_ = std::filesystem::temp_directory_path() / ("pp-nginx-" + std::to_string(::getpid()));
  std::filesystem::create_directories(prefix_);
  std::string conf = read_text_file(std::string(PAHLAWAN_SOURCE_DIR) + "/deploy/nginx/pahlawan.conf");
  std::string servers;
  for (int p : upstream_ports) servers += "    server 127.0.0.1:" + std::to_string(p) + " max_fails=0;\n";
  replace_all(conf, "@UPSTREAMS@\n", servers);
  replace_all(conf, "@LISTEN@", "127.0.0.1:" + std::to_string(port_));
  replace_all(conf, "@PREFIX@", prefix_.string());
  replace_all(conf, "@USER@", ::geteuid() == 0 ? "user root;" : "");  // workers write the temp paths
  std::ofstream(prefix_ / "nginx.conf") << conf;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execlp("nginx", "nginx", "-p", prefix_.c_str(), "-c", (prefix_ / "nginx.conf").c_str(), "-g", "daemon off;",
             nullptr);
    ::_exit(127);
  }
  EXPECT_TRUE(eventually([&] { return accepts(port_); }))
      << "nginx did not start: " << read_text_file(prefix_ / "error.log");
}

NginxProcess::~NginxProcess() {
  ::kill(pid_, SIGQUIT);  // graceful: the access log is complete
  ::waitpid(pid_, nullptr, 0);
  std::filesystem::remove_all(prefix_);
}

std::string NginxProcess::access_log() const {
  return read_text_file(prefix_ / "access.log");
}

}  // namespace pahlawan::testing

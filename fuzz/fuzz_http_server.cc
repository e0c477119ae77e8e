// Whole HTTP requests through the real server: `pahlawan serve` (SQLite store, every adapter, the
// HTTP limits) runs in this process on a loopback port, and each input is written raw to a fresh
// connection. A crash, sanitizer report or hang anywhere in the server is caught here. Invariant: the
// server still answers /healthz after every 64 inputs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "server/config.h"
#include "server/server.h"

namespace {

int port = 0;
std::string data_dir;  // removed at exit

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

int connect_once(int timeout_ms) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(s);
    return -1;
  }
  return s;
}

// Writes `bytes`, ends the request side, and reads the answer until the server closes (or 1 s).
std::string exchange(const char* bytes, size_t n) {
  int s = connect_once(1000);
  if (s < 0) return {};
  for (size_t off = 0; off < n;) {
    ssize_t w = send(s, bytes + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  shutdown(s, SHUT_WR);
  std::string out;
  char buf[4096];
  for (ssize_t r; (r = recv(s, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(r));
  close(s);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/pahlawan-fuzz-XXXXXX";
  data_dir = mkdtemp(tmpl);
  const std::string& dir = data_dir;
  std::atexit([] { std::filesystem::remove_all(data_dir); });
  port = free_port();
  auto config = pahlawan::parse_config(
      {"--listen", "127.0.0.1:" + std::to_string(port), "--data-dir", dir, "--admin-token",
       "fuzz-admin-token-0123456789", "--threads", "2", "--request-timeout-ms", "1000", "--rate-limit", "0"},
      [](const char*) { return std::optional<std::string>(); });
  if (!config) {
    std::fprintf(stderr, "fuzz: %s\n", config.status().message().c_str());
    std::abort();
  }
  std::thread([c = *config] { std::exit(pahlawan::run_server(c)); }).detach();
  // Until the server listens (it binds after opening its store); bounded.
  for (int i = 0; i < 3000; ++i) {
    if (int s = connect_once(1000); s >= 0) {
      close(s);
      return 0;
    }
    usleep(10000);
  }
  std::fprintf(stderr, "fuzz: the server did not start\n");
  std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static unsigned runs = 0;
  (void)exchange(reinterpret_cast<const char*>(data), size);
  if (++runs % 64 == 0) {
    static const char kHealth[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string answer = exchange(kHealth, sizeof kHealth - 1);
    if (answer.rfind("HTTP/1.1 200", 0) != 0) {
      std::fprintf(stderr, "fuzz: the server stopped answering /healthz: %s\n", answer.c_str());
      std::abort();
    }
  }
  return 0;
}

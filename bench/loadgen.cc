// pahlawan-loadgen: replays the 10 PM herd and the nearby-browsing rush against a real server.
//
//   pahlawan-loadgen herd   [--providers 10000] [--window-ms 1000] [--connections 512]
//   pahlawan-loadgen nearby [--items 100000] [--seconds 10] [--connections 64] [--rate 0]
//   common: --server PATH (spawned on a free port with a fresh data dir) or --port N (already running,
//           then --admin-token T is required).
//
// Results go to stdout; docs/benchmarks.md records them.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "load_client.h"

namespace pb = pahlawan::bench;

namespace {

struct Args {
  std::string mode, server, admin_token = "bench-admin-token-0123456789";
  int port = 0;
  size_t providers = 10000, items = 100000;
  int window_ms = 1000, connections = 0, seconds = 10;
  double rate = 0;
  uint64_t seed = 42;
};

// Jakarta's built-up area, roughly: 30 km × 33 km.
constexpr double kLatMin = -6.37, kLatMax = -6.08, kLonMin = 106.68, kLonMax = 106.98;

pid_t spawn_server(const Args& a, const std::string& dir, int& port) {
  int fds[2];
  if (pipe(fds) != 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(a.server.c_str(), a.server.c_str(), "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.c_str(),
          "--admin-token", a.admin_token.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[1024];
  const std::string marker = "listening on http://127.0.0.1:";
  while (out.find(marker) == std::string::npos ||
         out.find(' ', out.find(marker) + marker.size()) == std::string::npos) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) {
      std::fprintf(stderr, "server failed to start:\n%s\n", out.c_str());
      std::exit(1);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  port = std::atoi(out.c_str() + out.find(marker) + marker.size());
  return pid;
}

long peak_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

std::string token_of(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("token")) return "";
  return std::string(v.at("token").as_string());
}

// Registers `n` parties concurrently (not timed as part of the benchmark) and returns their tokens.
std::vector<std::string> register_parties(const Args& a, int port, size_t n, const char* path, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> lat(kLatMin, kLatMax), lon(kLonMin, kLonMax);
  std::vector<std::pair<double, double>> where(n);
  for (auto& w : where) w = {lat(rng), lon(rng)};
  std::vector<std::string> tokens(n);
  auto stats = pb::run_load(
      port, n, {}, 64,
      [&](size_t i) {
        return pb::Request{"POST", path,
                           R"({"name":"bench )" + std::to_string(i) + R"(","lat":)" + std::to_string(where[i].first) +
                               R"(,"lon":)" + std::to_string(where[i].second) + "}",
                           a.admin_token};
      },
      [&](size_t i, int, const std::string& body) { tokens[i] = token_of(body); });
  if (stats.errors) std::fprintf(stderr, "warning: %zu registrations failed\n", stats.errors);
  return tokens;
}

// Reads one sample (a line "name value") from the server's /metrics.
double metric(int port, const std::string& name) {
  double value = -1;
  pb::run_load(
      port, 1, {}, 1,
      [](size_t) {
        return pb::Request{"GET", "/metrics", "", ""};
      },
      [&](size_t, int, const std::string& body) {
        const auto at = body.find("\n" + name + " ");
        if (at != std::string::npos) value = std::atof(body.c_str() + at + name.size() + 2);
      });
  return value;
}

// Server-side CPU seconds (user + system) of a process, from /proc.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = s.rfind(')');
  std::istringstream rest(s.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct ServerSnapshot {
  double commit_s, units, batches, cpu_s;
};

ServerSnapshot snapshot(int port, pid_t pid) {
  return {metric(port, "store_commit_seconds_sum"), metric(port, "store_commit_batch_units_sum"),
          metric(port, "store_commit_batch_units_count"), pid > 0 ? cpu_seconds(pid) : -1};
}

void print_delta(const ServerSnapshot& a, const ServerSnapshot& b, double wall_s) {
  const double units = b.units - a.units, batches = b.batches - a.batches;
  std::printf("  store: %.0f units in %.0f group commits (%.1f units/commit), committer busy %.2f s of %.2f s\n", units,
              batches, batches > 0 ? units / batches : 0.0, b.commit_s - a.commit_s, wall_s);
  if (a.cpu_s >= 0)
    std::printf("  server CPU: %.2f s (%.0f%% of one core)\n", b.cpu_s - a.cpu_s, 100 * (b.cpu_s - a.cpu_s) / wall_s);
}

int herd(const Args& a, int port, pid_t server_pid) {
  std::mt19937_64 rng(a.seed);
  std::printf("registering %zu providers...\n", a.providers);
  auto tokens = register_parties(a, port, a.providers, "/v1/providers", rng);
  const long rss_before = server_pid > 0 ? peak_rss_kb(server_pid) : -1;
  // Each provider posts one item at a uniformly random moment of the window.
  std::vector<pb::Clock::duration> offsets(a.providers);
  std::uniform_int_distribution<int64_t> at(0, static_cast<int64_t>(a.window_ms) * 1000);
  for (auto& o : offsets) o = std::chrono::microseconds(at(rng));
  std::sort(offsets.begin(), offsets.end());
  const int connections = a.connections > 0 ? a.connections : 512;
  std::printf("herd: %zu posts in %d ms, open loop over up to %d keep-alive connections\n", a.providers, a.window_ms,
              connections);
  const auto before = snapshot(port, server_pid);
  auto stats = pb::run_load(port, a.providers, offsets, connections, [&](size_t i) {
    return pb::Request{"POST", "/v1/surplus",
                       R"({"title":"Nasi kotak","category":"prepared_meal","quantity_kg":5,"ttl_seconds":7200})",
                       tokens[i]};
  });
  stats.print("posts");
  print_delta(before, snapshot(port, server_pid), stats.seconds);
  if (server_pid > 0)
    std::printf("server peak RSS: %ld MiB (after registration: %ld MiB)\n", peak_rss_kb(server_pid) / 1024,
                rss_before / 1024);
  return stats.errors == 0 ? 0 : 1;
}

int nearby(const Args& a, int port, pid_t server_pid) {
  std::mt19937_64 rng(a.seed);
  const size_t providers = 1000;
  std::printf("seeding %zu items from %zu providers...\n", a.items, providers);
  auto ptokens = register_parties(a, port, providers, "/v1/providers", rng);
  auto ntokens = register_parties(a, port, 300, "/v1/ngos", rng);
  std::uniform_real_distribution<double> lat(kLatMin, kLatMax), lon(kLonMin, kLonMax);
  std::vector<std::pair<double, double>> where(a.items);
  for (auto& w : where) w = {lat(rng), lon(rng)};
  auto seeded = pb::run_load(port, a.items, {}, 64, [&](size_t i) {
    return pb::Request{"POST", "/v1/surplus",
                       R"({"title":"Roti","category":"bakery","quantity_kg":3,"ttl_seconds":86400,"lat":)" +
                           std::to_string(where[i].first) + R"(,"lon":)" + std::to_string(where[i].second) + "}",
                       ptokens[i % providers]};
  });
  seeded.print("seeding posts (closed loop, 64 connections)");

  std::vector<std::pair<double, double>> from(1 << 16);
  for (auto& w : from) w = {lat(rng), lon(rng)};
  const int connections = a.connections > 0 ? a.connections : 64;
  size_t count;
  std::vector<pb::Clock::duration> offsets;
  if (a.rate > 0) {
    count = static_cast<size_t>(a.rate * a.seconds);
    offsets.resize(count);
    for (size_t i = 0; i < count; ++i) offsets[i] = std::chrono::nanoseconds(static_cast<int64_t>(1e9 * i / a.rate));
    std::printf("nearby: open loop at %.0f req/s for %d s over %d connections\n", a.rate, a.seconds, connections);
  } else {
    count = static_cast<size_t>(a.seconds) * 20000;
    std::printf("nearby: closed loop, %zu requests over %d connections\n", count, connections);
  }
  size_t items_seen = 0;
  const auto before = snapshot(port, server_pid);
  auto stats = pb::run_load(
      port, count, offsets, connections,
      [&](size_t i) {
        const auto& w = from[i % from.size()];
        return pb::Request{"GET",
                           "/v1/surplus?lat=" + std::to_string(w.first) + "&lon=" + std::to_string(w.second) +
                               "&radius_m=5000&limit=20",
                           "", ntokens[i % ntokens.size()]};
      },
      [&](size_t, int, const std::string& body) {
        // Count items cheaply: one "distance_m" per item.
        for (size_t p = body.find("distance_m"); p != std::string::npos; p = body.find("distance_m", p + 1))
          ++items_seen;
      });
  stats.print("nearby (radius 5 km, limit 20)");
  std::printf("  items per response: %.1f\n", static_cast<double>(items_seen) / static_cast<double>(stats.ms.size()));
  print_delta(before, snapshot(port, server_pid), stats.seconds);
  if (server_pid > 0) std::printf("server peak RSS: %ld MiB\n", peak_rss_kb(server_pid) / 1024);
  return stats.errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: pahlawan-loadgen herd|nearby [--server PATH | --port N --admin-token T] ...\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--server")
      a.server = v;
    else if (f == "--port")
      a.port = std::stoi(v);
    else if (f == "--admin-token")
      a.admin_token = v;
    else if (f == "--providers")
      a.providers = std::stoul(v);
    else if (f == "--items")
      a.items = std::stoul(v);
    else if (f == "--window-ms")
      a.window_ms = std::stoi(v);
    else if (f == "--connections")
      a.connections = std::stoi(v);
    else if (f == "--seconds")
      a.seconds = std::stoi(v);
    else if (f == "--rate")
      a.rate = std::stod(v);
    else if (f == "--seed")
      a.seed = std::stoull(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", f.c_str());
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = -1;
  std::string dir;
  int port = a.port;
  if (!a.server.empty()) {
    char tmpl[] = "/tmp/pahlawan-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    pid = spawn_server(a, dir, port);
  } else if (port == 0) {
    std::fprintf(stderr, "give --server PATH or --port N\n");
    return 2;
  }
  int rc = a.mode == "herd" ? herd(a, port, pid) : a.mode == "nearby" ? nearby(a, port, pid) : 2;
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    std::filesystem::remove_all(dir);
  }
  return rc;
}

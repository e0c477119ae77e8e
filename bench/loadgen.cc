// pahlawan-loadgen: replays the 10 PM herd and the nearby-browsing rush against a real server.
//
//   pahlawan-loadgen herd   [--providers 10000] [--window-ms 1000] [--connections 512]
//                           [--ngos 0] [--ack-min-ms 500] [--ack-max-ms 5000]
//       with --ngos N: N NGOs hold offer streams (GET /v1/events) and claim each offer after a random
//       delay; reports post → offer latency, offers per second and the matcher's saturation.
//   pahlawan-loadgen nearby [--items 100000] [--seconds 10] [--connections 64] [--rate 0]
//   pahlawan-loadgen streams [--count 5000] [--seconds 20]
//       opens that many idle GET /v1/events streams (100 NGOs, many streams each) and reports the
//       server's memory per stream and its CPU while they idle (heartbeats every 10 s).
//   common: --server PATH (spawned on a free port with a fresh data dir) or --port N (already running,
//           then --admin-token T is required). --store postgres://… runs the spawned server on
//           PostgreSQL (migrating the database first).
//
// Results go to stdout; docs/benchmarks.md records them.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>

#include <thread>

#include "common/time_format.h"
#include "load_client.h"
#include "offer_watch.h"

namespace pb = pahlawan::bench;

namespace {

struct Args {
  std::string mode, server, admin_token = "bench-admin-token-0123456789";
  std::string store;  // --store for the spawned server (PostgreSQL); empty: the embedded default
  int port = 0;
  size_t providers = 10000, items = 100000;
  int window_ms = 1000, connections = 0, seconds = 10;
  double rate = 0;
  uint64_t seed = 42;
  size_t ngos = 0;
  size_t streams = 5000;
  int ack_min_ms = 500, ack_max_ms = 5000;
};

// Jakarta's built-up area, roughly: 30 km × 33 km.
constexpr double kLatMin = -6.37, kLatMax = -6.08, kLonMin = 106.68, kLonMax = 106.98;

pid_t spawn_server(const Args& a, const std::string& dir, int& port) {
  // The server's log goes to a file in its data directory, not a pipe: with a JSON line per request
  // it would fill a pipe nobody reads after the start, and block.
  const std::string log = dir + "/server.log";
  const int out_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0) std::exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    if (a.store.empty()) {
      execl(a.server.c_str(), a.server.c_str(), "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.c_str(),
            "--admin-token", a.admin_token.c_str(), static_cast<char*>(nullptr));
    } else {
      execl(a.server.c_str(), a.server.c_str(), "serve", "--listen", "127.0.0.1:0", "--data-dir", dir.c_str(),
            "--admin-token", a.admin_token.c_str(), "--store", a.store.c_str(), "--migrate", "true",
            static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  close(out_fd);
  const std::string marker = "listening on http://127.0.0.1:";
  for (;;) {  // poll the log until the URL line is whole (something other than a digit follows it)
    std::ifstream in(log);
    const std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = out.find(marker);
    const auto end = at == std::string::npos ? at : out.find_first_not_of("0123456789", at + marker.size());
    if (end != std::string::npos && end > at + marker.size()) {
      port = std::atoi(out.c_str() + at + marker.size());
      return pid;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::fprintf(stderr, "server failed to start:\n%s\n", out.c_str());
      std::exit(1);
    }
    usleep(20000);
  }
}

long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + field.size());
  }
  return -1;
}

long peak_rss_kb(pid_t pid) {
  return status_kb(pid, "VmHWM:");
}

// A string field of a JSON object body; "" if the body is not one or lacks it.
std::string string_field(const std::string& body, const char* key) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object() || !v.as_object().contains(key) || !v.at(key).is_string()) return "";
  return std::string(v.at(key).as_string());
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
      [&](size_t i, int, const std::string& body) { tokens[i] = string_field(body, "token"); });
  if (stats.errors) std::fprintf(stderr, "warning: %zu registrations failed\n", stats.errors);
  return tokens;
}

// The server's /metrics, as text.
std::string metrics_text(int port) {
  std::string text;
  pb::run_load(
      port, 1, {}, 1,
      [](size_t) {
        return pb::Request{"GET", "/metrics", "", ""};
      },
      [&](size_t, int, const std::string& body) { text = "\n" + body; });
  return text;
}

// One sample (a line "name value") of `text`, or -1.
double sample(const std::string& text, const std::string& name) {
  const auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + name.size() + 2);
}

// Reads one sample from the server's /metrics.
double metric(int port, const std::string& name) {
  return sample(metrics_text(port), name);
}

// The server's own surplus_first_decision_seconds, over its three outcomes: from an item's post (as
// the server stamped it) to its first match decision (an offer, the waiting line or the Geo-DLQ),
// durable. Returns how many items were decided; prints the share within 1 s and the bucket that
// holds the p99 when `print`.
double first_decisions(int port, bool print) {
  const std::string text = metrics_text(port);
  const char* outcomes[] = {"offered", "waiting", "dead_lettered"};
  const char* bounds[] = {"0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"};
  std::vector<double> cumulative(std::size(bounds), 0);
  double by_outcome[3] = {0, 0, 0};
  for (int o = 0; o < 3; ++o) {
    const std::string name = std::string("surplus_first_decision_seconds_bucket{outcome=\"") + outcomes[o] + "\",le=\"";
    for (size_t b = 0; b < std::size(bounds); ++b)
      cumulative[b] += std::max(0.0, sample(text, name + bounds[b] + "\"}"));
    by_outcome[o] = std::max(0.0, sample(text, name + "+Inf\"}"));
  }
  const double total = cumulative.back();
  if (!print) return total;
  size_t p99 = 0;
  while (p99 + 1 < cumulative.size() && cumulative[p99] < 0.99 * total) ++p99;
  std::printf(
      "  first match decision (server, post -> durable offer, line or DLQ): %.0f items (offered %.0f, waiting %.0f, "
      "dead-lettered %.0f); within 1 s: %.1f %%; p99 <= %s s\n",
      total, by_outcome[0], by_outcome[1], by_outcome[2], total > 0 ? 100 * cumulative[6] / total : 0.0, bounds[p99]);
  return total;
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

// Samples matching_engine_saturation_ratio (busy share since the previous scrape) every 250 ms.
class Saturation {
 public:
  explicit Saturation(int port) : port_(port) {}
  ~Saturation() { stop(); }
  void start() {
    metric(port_, "matching_engine_saturation_ratio");  // resets the window
    thread_ = std::thread([this] {
      while (!done_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the sampling period, not a wait
        const double v = metric(port_, "matching_engine_saturation_ratio");
        std::lock_guard lock(mu_);
        samples_.push_back(v);
      }
    });
  }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<double> samples() {
    std::lock_guard lock(mu_);
    return samples_;
  }

 private:
  const int port_;
  std::atomic<bool> done_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<double> samples_;
};

// Milliseconds between two RFC 3339 times as the server renders them; -1 if either is not one.
double ms_between(const boost::json::value& from, const boost::json::value& to) {
  if (!from.is_string() || !to.is_string()) return -1;
  auto a = pahlawan::parse_rfc3339(std::string(from.as_string()));
  auto b = pahlawan::parse_rfc3339(std::string(to.as_string()));
  if (!a || !b) return -1;
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(*b - *a).count());
}

// The Geo-DLQ's surplus count over every reason (-1 if /metrics did not answer).
double dead_lettered(int port) {
  double sum = 0;
  for (const char* reason : {"no_eligible_ngo", "max_attempts", "waited_too_long"}) {
    const double v = metric(port, std::string("surplus_dead_lettered_total{reason=\"") + reason + "\"}");
    if (v > 0) sum += v;
  }
  return sum;
}

// After the herd: waits (bounded) until every item was offered or dead-lettered, then reports. With
// the waiting line (issue 9) items busy NGOs cannot take at once are offered as their claims free
// slots, so this can take minutes (at most --max-wait, 600 s, plus the NGOs' delays).
void report_matching(const Args& a, int port, pb::OfferWatch& watch, Saturation& saturation, const pb::Stats& posts,
                     const std::vector<pb::Clock::duration>& offsets, const std::vector<std::string>& ids) {
  const auto limit = pb::Clock::now() + std::chrono::seconds(700);
  while (pb::Clock::now() < limit) {
    if (watch.offered_items() + static_cast<size_t>(dead_lettered(port)) >= a.providers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling a condition, bounded
  }
  saturation.stop();
  const auto decided_at = pb::Clock::now();
  // Let the NGOs claim what they were offered, then stop watching.
  std::this_thread::sleep_for(std::chrono::milliseconds(a.ack_max_ms + 500));  // the slowest NGO's delay
  watch.stop();

  // Dead-lettered items, from the Geo-DLQ itself (every page), with their server-side post → DLQ time.
  std::unordered_map<std::string, double> dead;
  for (std::string after, next = "first"; !next.empty(); after = next) {
    next.clear();
    pb::run_load(
        port, 1, {}, 1,
        [&](size_t) {
          return pb::Request{"GET", "/v1/dlq?limit=1000" + (after == "first" ? "" : "&after=" + after), "",
                             a.admin_token};
        },
        [&](size_t, int status, const std::string& body) {
          boost::system::error_code ec;
          auto v = boost::json::parse(body, ec);
          if (status != 200 || ec || !v.is_object() || !v.as_object().contains("items")) {
            std::fprintf(stderr, "GET /v1/dlq answered %d: %s\n", status, body.substr(0, 200).c_str());
            return;
          }
          for (const auto& e : v.at("items").as_array()) {
            const auto& surplus = e.at("surplus");
            dead[std::string(surplus.at("id").as_string())] = ms_between(surplus.at("created_at"), e.at("created_at"));
          }
          if (v.at("next").is_string()) next = std::string(v.at("next").as_string());
        });
  }

  // An item first offered later than the quickest NGO could have claimed anything after its post was
  // offered a slot that a claim freed: it waited in line.
  pb::Stats offer_latency, waited_latency;
  size_t offered = 0, both = 0, neither = 0;
  const auto& seen = watch.first_seen();
  pb::Clock::time_point first = pb::Clock::time_point::max(), last = pb::Clock::time_point::min();
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = seen.find(ids[i]);
    const bool was_dead = dead.count(ids[i]) > 0;
    if (it != seen.end()) {
      ++offered;
      const double ms = std::chrono::duration<double, std::milli>(it->second - (posts.start + offsets[i])).count();
      offer_latency.ms.push_back(ms);
      if (ms > a.ack_min_ms) waited_latency.ms.push_back(ms);
      first = std::min(first, it->second);
      last = std::max(last, it->second);
      both += was_dead;
    } else if (!was_dead) {
      ++neither;
    }
  }
  pb::Stats dlq_latency;
  for (const auto& [id, ms] : dead) dlq_latency.ms.push_back(ms);
  const double span = offered > 1 ? std::chrono::duration<double>(last - first).count() : 0;
  std::printf("matching: %zu items: %zu offered (seen on an NGO's stream), %zu dead-lettered, %zu both, %zu neither\n",
              ids.size(), offered, dead.size(), both, neither);
  std::printf("  post -> offer seen on SSE, ms from the scheduled post: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
              offer_latency.pct(50), offer_latency.pct(99), offer_latency.pct(99.9),
              offer_latency.ms.empty() ? 0.0 : *std::max_element(offer_latency.ms.begin(), offer_latency.ms.end()));
  std::printf(
      "  waited in line, then offered: %zu items (server: surplus_waiting_total %.0f); post -> offer ms: p50 %.0f"
      "  p99 %.0f  max %.0f\n",
      waited_latency.ms.size(), metric(port, "surplus_waiting_total"), waited_latency.pct(50), waited_latency.pct(99),
      waited_latency.ms.empty() ? 0.0 : *std::max_element(waited_latency.ms.begin(), waited_latency.ms.end()));
  std::printf("  post -> dead-letter, server clock, ms: p50 %.0f  p99 %.0f  max %.0f\n", dlq_latency.pct(50),
              dlq_latency.pct(99),
              dlq_latency.ms.empty() ? 0.0 : *std::max_element(dlq_latency.ms.begin(), dlq_latency.ms.end()));
  std::printf("  first offers: %zu over %.2f s = %.0f offers/s; offer events %zu; claims ok %zu, refused %zu\n",
              offered, span, span > 0 ? static_cast<double>(offered) / span : 0.0, watch.offer_events(),
              watch.claims_ok(), watch.claims_refused());
  auto s = saturation.samples();
  double peak = 0, sum = 0;
  for (double v : s) peak = std::max(peak, v), sum += v;
  std::printf("  matcher saturation (250 ms samples until all decided, %.1f s): mean %.2f  peak %.2f\n",
              std::chrono::duration<double>(decided_at - posts.start).count(),
              s.empty() ? 0.0 : sum / static_cast<double>(s.size()), peak);
}

int herd(const Args& a, int port, pid_t server_pid) {
  std::mt19937_64 rng(a.seed);
  std::printf("registering %zu providers...\n", a.providers);
  auto tokens = register_parties(a, port, a.providers, "/v1/providers", rng);
  std::unique_ptr<pb::OfferWatch> watch;
  if (a.ngos > 0) {
    std::printf("registering %zu NGOs and opening their offer streams...\n", a.ngos);
    watch = std::make_unique<pb::OfferWatch>(port, register_parties(a, port, a.ngos, "/v1/ngos", rng),
                                             std::chrono::milliseconds(a.ack_min_ms),
                                             std::chrono::milliseconds(a.ack_max_ms), a.seed);
    watch->start();
  }
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
  std::vector<std::string> ids(a.providers);
  Saturation saturation(port);
  if (watch) saturation.start();
  auto stats = pb::run_load(
      port, a.providers, offsets, connections,
      [&](size_t i) {
        return pb::Request{"POST", "/v1/surplus",
                           R"({"title":"Nasi kotak","category":"prepared_meal","quantity_kg":5,"ttl_seconds":7200})",
                           tokens[i]};
      },
      [&](size_t i, int, const std::string& body) { ids[i] = string_field(body, "id"); });
  stats.print("posts");
  print_delta(before, snapshot(port, server_pid), stats.seconds);
  if (watch) {
    report_matching(a, port, *watch, saturation, stats, offsets, ids);
  } else {
    // Without NGOs every item is dead-lettered after its post: wait (bounded) until each was.
    const auto limit = pb::Clock::now() + std::chrono::seconds(60);
    while (first_decisions(port, false) < static_cast<double>(a.providers) && pb::Clock::now() < limit) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // polling a condition, bounded
    }
  }
  first_decisions(port, true);
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

int streams(const Args& a, int port, pid_t server_pid) {
  if (server_pid <= 0) {
    std::fprintf(stderr, "streams needs --server (it reads the server's memory and CPU from /proc)\n");
    return 2;
  }
  std::mt19937_64 rng(a.seed);
  const size_t count = a.streams;
  auto ngos = register_parties(a, port, 100, "/v1/ngos", rng);
  std::vector<std::string> tokens(count);
  for (size_t i = 0; i < count; ++i) tokens[i] = ngos[i % ngos.size()];
  const long rss_before = status_kb(server_pid, "VmRSS:");
  const int threads_before = static_cast<int>(status_kb(server_pid, "Threads:"));
  pb::OfferWatch watch(port, tokens, std::chrono::milliseconds(0), std::chrono::milliseconds(0), a.seed);
  const auto t0 = pb::Clock::now();
  watch.start();
  const double connect_s = std::chrono::duration<double>(pb::Clock::now() - t0).count();
  const double open = metric(port, "sse_streams_open");
  const long rss_open = status_kb(server_pid, "VmRSS:");
  const double cpu0 = cpu_seconds(server_pid);
  std::this_thread::sleep_for(std::chrono::seconds(a.seconds));  // the idle period being measured
  const double idle_cpu = cpu_seconds(server_pid) - cpu0;
  const long rss_idle = status_kb(server_pid, "VmRSS:");
  std::printf("streams: %zu requested, %.0f open on the server (connected in %.2f s)\n", count, open, connect_s);
  std::printf("  server RSS: %ld MiB before, %ld MiB with the streams open, %ld MiB after %d s idle\n",
              rss_before / 1024, rss_open / 1024, rss_idle / 1024, a.seconds);
  std::printf("  memory per stream: %.1f KiB; server threads %d -> %ld\n",
              static_cast<double>(rss_idle - rss_before) / static_cast<double>(count), threads_before,
              status_kb(server_pid, "Threads:"));
  std::printf("  server CPU while idle: %.2f s over %d s (%.1f%% of one core)\n", idle_cpu, a.seconds,
              100 * idle_cpu / a.seconds);
  watch.stop();
  return open >= static_cast<double>(count) ? 0 : 1;
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
    else if (f == "--count")
      a.streams = std::stoul(v);
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
    else if (f == "--ngos")
      a.ngos = std::stoul(v);
    else if (f == "--ack-min-ms")
      a.ack_min_ms = std::stoi(v);
    else if (f == "--ack-max-ms")
      a.ack_max_ms = std::stoi(v);
    else if (f == "--store")
      a.store = v;
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
  int rc = a.mode == "herd"      ? herd(a, port, pid)
           : a.mode == "nearby"  ? nearby(a, port, pid)
           : a.mode == "streams" ? streams(a, port, pid)
                                 : 2;
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    std::filesystem::remove_all(dir);
  }
  return rc;
}

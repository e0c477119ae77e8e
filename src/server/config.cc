#include "server/config.h"

#include <charconv>
#include <map>

#include "domain/geo.h"

namespace pahlawan {
namespace {

Result<int> to_int(const std::string& flag, const std::string& v, int lo, int hi) {
  int out;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out < lo || out > hi) {
    return invalid(flag + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return out;
}

Result<double> to_double(const std::string& flag, const std::string& v, double lo, double hi) {
  double out;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || !(out >= lo && out <= hi)) {
    return invalid(flag + " must be a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return out;
}

}  // namespace

std::string config_usage() {
  return "usage: pahlawan serve [--listen 127.0.0.1:8080] [--data-dir ./data] [--admin-token T]\n"
         "                      [--ack-timeout 300] [--shard-level 13] [--match-radius-m 10000]\n"
         "                      [--max-attempts 5] [--max-pending-offers 3] [--routing-url URL] [--threads N]\n"
         "                      [--hot-window 7200] [--rate-limit 100] [--webhook-retry-ms 1000]\n"
         "Each flag may also come from PAHLAWAN_<FLAG> (e.g. PAHLAWAN_DATA_DIR); a flag wins.\n";
}

Result<Config> parse_config(const std::vector<std::string>& args,
                            const std::function<std::optional<std::string>(const char*)>& env) {
  static const char* kFlags[][2] = {
      {"--listen", "PAHLAWAN_LISTEN"},
      {"--data-dir", "PAHLAWAN_DATA_DIR"},
      {"--admin-token", "PAHLAWAN_ADMIN_TOKEN"},
      {"--ack-timeout", "PAHLAWAN_ACK_TIMEOUT"},
      {"--shard-level", "PAHLAWAN_SHARD_LEVEL"},
      {"--match-radius-m", "PAHLAWAN_MATCH_RADIUS_M"},
      {"--max-attempts", "PAHLAWAN_MAX_ATTEMPTS"},
      {"--max-pending-offers", "PAHLAWAN_MAX_PENDING_OFFERS"},
      {"--routing-url", "PAHLAWAN_ROUTING_URL"},
      {"--threads", "PAHLAWAN_THREADS"},
      {"--hot-window", "PAHLAWAN_HOT_WINDOW"},
      {"--rate-limit", "PAHLAWAN_RATE_LIMIT"},
      {"--webhook-retry-ms", "PAHLAWAN_WEBHOOK_RETRY_MS"},
  };
  std::map<std::string, std::string> values;
  for (const auto& f : kFlags) {
    if (auto v = env(f[1]); v && !v->empty()) values[f[0]] = *v;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i], value;
    const auto eq = flag.find('=');
    if (eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else {
      if (i + 1 >= args.size()) return invalid(flag + " needs a value");
      value = args[++i];
    }
    bool known = false;
    for (const auto& f : kFlags) known |= flag == f[0];
    if (!known) return invalid("unknown flag " + flag);
    values[flag] = value;
  }

  Config c;
  for (const auto& [flag, v] : values) {
    if (flag == "--listen") c.listen = v;
    if (flag == "--data-dir") c.data_dir = v;
    if (flag == "--admin-token") {
      if (v.size() < 16) return invalid("--admin-token must be at least 16 characters");
      c.admin_token = v;
    }
    if (flag == "--routing-url") c.routing_url = v;
    if (flag == "--ack-timeout") {
      auto r = to_int(flag, v, 1, 86400);
      if (!r) return r.status();
      c.ack_timeout_s = *r;
    }
    if (flag == "--shard-level") {
      auto r = to_int(flag, v, kMinShardLevel, kMaxShardLevel);
      if (!r) return r.status();
      c.shard_level = *r;
    }
    if (flag == "--match-radius-m") {
      auto r = to_double(flag, v, 1, 1000000);
      if (!r) return r.status();
      c.match_radius_m = *r;
    }
    if (flag == "--max-attempts") {
      auto r = to_int(flag, v, 1, 100);
      if (!r) return r.status();
      c.max_attempts = *r;
    }
    if (flag == "--max-pending-offers") {
      auto r = to_int(flag, v, 1, 1000);
      if (!r) return r.status();
      c.max_pending_offers = *r;
    }
    if (flag == "--hot-window") {
      auto r = to_int(flag, v, 60, 7 * 86400);
      if (!r) return r.status();
      c.hot_window_s = *r;
    }
    if (flag == "--webhook-retry-ms") {
      auto r = to_int(flag, v, 10, 600000);
      if (!r) return r.status();
      c.webhook_retry_ms = *r;
    }
    if (flag == "--rate-limit") {
      auto r = to_double(flag, v, 0, 1e6);
      if (!r) return r.status();
      c.rate_limit = *r;
    }
    if (flag == "--threads") {
      auto r = to_int(flag, v, 0, 256);
      if (!r) return r.status();
      c.threads = *r;
    }
  }
  return c;
}

}  // namespace pahlawan

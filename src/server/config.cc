#include "server/config.h"

#include <charconv>
#include <map>

#include "common/time_format.h"
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

bool is_postgres_url(const std::string& s) {
  return s.rfind("postgres://", 0) == 0 || s.rfind("postgresql://", 0) == 0;
}

std::string config_usage() {
  return "usage: pahlawan serve [--listen 127.0.0.1:8080] [--data-dir ./data] [--admin-token T]\n"
         "                      [--store postgres://user@host:port/db] [--migrate false] [--archive-dir DIR]\n"
         "                      [--bus nats://host:port] [--bus-ack-wait-ms 30000]\n"
         "                      [--hot redis://host:port[/db]] [--hot-timeout-ms 200]\n"
         "                      [--replica NAME [--advertise HOST:PORT] [--lease-ttl-ms 9000]]\n"
         "                      [--ack-timeout 300] [--shard-level 13] [--match-radius-m 10000]\n"
         "                      [--max-attempts 5] [--max-pending-offers 3] [--routing-url URL] [--threads N]\n"
         "                      [--hot-window 7200] [--rate-limit 100] [--webhook-retry-ms 1000]\n"
         "                      [--routing-timeout-ms 1000] [--routing-breaker-failures 5]\n"
         "                      [--routing-breaker-cooldown-ms 30000] [--webhook-ca-file PEM]\n"
         "                      [--max-connections 10000] [--request-timeout-ms 10000] [--write-timeout-ms 10000]\n"
         "                      [--sse-heartbeat-ms 10000] [--log-level info]\n"
         "                      [--otlp-endpoint http://host:4318] [--trace-sample-ratio 1.0]\n"
         "                      [--max-streams-per-ngo 8] [--idempotency-retention-h 24]\n"
         "                      [--outbox-retention-h 24] [--journal-max-mb 256] [--journal-keep 4]\n"
         "                      [--webhook-allow-private false] [--max-post-distance-m 50000]\n"
         "                      [--max-wait 600] [--pickup-margin 900] [--match-window 0|500ms|2s]\n"
         "       pahlawan migrate --store postgres://user@host:port/db\n"
         "       pahlawan archive --store postgres://user@host:port/db --archive-dir DIR  (archive detached "
         "partitions)\n"
         "       pahlawan archive --store postgres://user@host:port/db --restore TABLE    (load one back)\n"
         "Each flag may also come from PAHLAWAN_<FLAG> (e.g. PAHLAWAN_DATA_DIR); a flag wins.\n"
         "Without --store the data lives in SQLite in the data directory; with it, in PostgreSQL.\n";
}

Result<Config> parse_config(const std::vector<std::string>& args,
                            const std::function<std::optional<std::string>(const char*)>& env) {
  static const char* kFlags[][2] = {
      {"--listen", "PAHLAWAN_LISTEN"},
      {"--data-dir", "PAHLAWAN_DATA_DIR"},
      {"--store", "PAHLAWAN_STORE"},
      {"--migrate", "PAHLAWAN_MIGRATE"},
      {"--bus", "PAHLAWAN_BUS"},
      {"--hot", "PAHLAWAN_HOT"},
      {"--hot-timeout-ms", "PAHLAWAN_HOT_TIMEOUT_MS"},
      {"--replica", "PAHLAWAN_REPLICA"},
      {"--advertise", "PAHLAWAN_ADVERTISE"},
      {"--lease-ttl-ms", "PAHLAWAN_LEASE_TTL_MS"},
      {"--archive-dir", "PAHLAWAN_ARCHIVE_DIR"},
      {"--admin-token", "PAHLAWAN_ADMIN_TOKEN"},
      {"--ack-timeout", "PAHLAWAN_ACK_TIMEOUT"},
      {"--shard-level", "PAHLAWAN_SHARD_LEVEL"},
      {"--match-radius-m", "PAHLAWAN_MATCH_RADIUS_M"},
      {"--max-attempts", "PAHLAWAN_MAX_ATTEMPTS"},
      {"--max-pending-offers", "PAHLAWAN_MAX_PENDING_OFFERS"},
      {"--max-wait", "PAHLAWAN_MAX_WAIT"},
      {"--pickup-margin", "PAHLAWAN_PICKUP_MARGIN"},
      {"--match-window", "PAHLAWAN_MATCH_WINDOW"},
      {"--routing-url", "PAHLAWAN_ROUTING_URL"},
      {"--threads", "PAHLAWAN_THREADS"},
      {"--hot-window", "PAHLAWAN_HOT_WINDOW"},
      {"--rate-limit", "PAHLAWAN_RATE_LIMIT"},
      {"--webhook-retry-ms", "PAHLAWAN_WEBHOOK_RETRY_MS"},
      {"--bus-ack-wait-ms", "PAHLAWAN_BUS_ACK_WAIT_MS"},
      {"--webhook-ca-file", "PAHLAWAN_WEBHOOK_CA_FILE"},
      {"--webhook-allow-private", "PAHLAWAN_WEBHOOK_ALLOW_PRIVATE"},
      {"--routing-timeout-ms", "PAHLAWAN_ROUTING_TIMEOUT_MS"},
      {"--routing-breaker-failures", "PAHLAWAN_ROUTING_BREAKER_FAILURES"},
      {"--routing-breaker-cooldown-ms", "PAHLAWAN_ROUTING_BREAKER_COOLDOWN_MS"},
      {"--max-connections", "PAHLAWAN_MAX_CONNECTIONS"},
      {"--idempotency-retention-h", "PAHLAWAN_IDEMPOTENCY_RETENTION_H"},
      {"--outbox-retention-h", "PAHLAWAN_OUTBOX_RETENTION_H"},
      {"--journal-max-mb", "PAHLAWAN_JOURNAL_MAX_MB"},
      {"--journal-keep", "PAHLAWAN_JOURNAL_KEEP"},
      {"--max-post-distance-m", "PAHLAWAN_MAX_POST_DISTANCE_M"},
      {"--max-streams-per-ngo", "PAHLAWAN_MAX_STREAMS_PER_NGO"},
      {"--request-timeout-ms", "PAHLAWAN_REQUEST_TIMEOUT_MS"},
      {"--write-timeout-ms", "PAHLAWAN_WRITE_TIMEOUT_MS"},
      {"--sse-heartbeat-ms", "PAHLAWAN_SSE_HEARTBEAT_MS"},
      {"--otlp-endpoint", "PAHLAWAN_OTLP_ENDPOINT"},
      {"--trace-sample-ratio", "PAHLAWAN_TRACE_SAMPLE_RATIO"},
      {"--log-level", "PAHLAWAN_LOG_LEVEL"},
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
  // Numeric flags: where each goes and the range it must lie in.
  struct IntFlag {
    int* field;
    int lo, hi;
  };
  struct DoubleFlag {
    double* field;
    double lo, hi;
  };
  const std::map<std::string, IntFlag> ints = {
      {"--ack-timeout", {&c.ack_timeout_s, 1, 86400}},
      {"--shard-level", {&c.shard_level, kMinShardLevel, kMaxShardLevel}},
      {"--max-attempts", {&c.max_attempts, 1, 100}},
      {"--max-pending-offers", {&c.max_pending_offers, 1, 1000}},
      {"--max-wait", {&c.max_wait_s, 0, 86400}},
      {"--pickup-margin", {&c.pickup_margin_s, 0, 86400}},
      {"--hot-window", {&c.hot_window_s, 60, 7 * 86400}},
      {"--webhook-retry-ms", {&c.webhook_retry_ms, 10, 600000}},
      {"--bus-ack-wait-ms", {&c.bus_ack_wait_ms, 5000, 3600000}},
      {"--hot-timeout-ms", {&c.hot_timeout_ms, 10, 10000}},
      {"--lease-ttl-ms", {&c.lease_ttl_ms, 1000, 600000}},
      {"--threads", {&c.threads, 0, 256}},
      {"--routing-timeout-ms", {&c.routing_timeout_ms, 10, 60000}},
      {"--routing-breaker-failures", {&c.routing_breaker_failures, 1, 1000}},
      {"--routing-breaker-cooldown-ms", {&c.routing_breaker_cooldown_ms, 100, 3600000}},
      {"--max-connections", {&c.max_connections, 1, 1000000}},
      {"--idempotency-retention-h", {&c.idempotency_retention_h, 24, 24 * 365}},
      {"--outbox-retention-h", {&c.outbox_retention_h, 1, 24 * 365}},
      {"--journal-max-mb", {&c.journal_max_mb, 1, 1000000}},
      {"--journal-keep", {&c.journal_keep, 0, 1000}},
      {"--max-streams-per-ngo", {&c.max_streams_per_ngo, 1, 1000}},
      {"--request-timeout-ms", {&c.request_timeout_ms, 100, 600000}},
      {"--write-timeout-ms", {&c.write_timeout_ms, 100, 600000}},
      {"--sse-heartbeat-ms", {&c.sse_heartbeat_ms, 10, 15000}},  // the contract: one at least every 15 s
  };
  const std::map<std::string, DoubleFlag> doubles = {
      {"--match-radius-m", {&c.match_radius_m, 1, 1000000}},
      {"--rate-limit", {&c.rate_limit, 0, 1e6}},
      {"--max-post-distance-m", {&c.max_post_distance_m, 0, 20100000}},
      {"--trace-sample-ratio", {&c.trace_sample_ratio, 0, 1}},
  };
  for (const auto& [flag, v] : values) {
    if (flag == "--listen") c.listen = v;
    if (flag == "--advertise") c.advertise = v;
    if (flag == "--replica") {
      const bool ok =
          !v.empty() && v.size() <= 64 &&
          v.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == std::string::npos;
      if (!ok) return invalid("--replica must be 1-64 letters, digits, '-', '_' or '.'");
      c.replica = v;
    }
    if (flag == "--data-dir") c.data_dir = v;
    if (flag == "--admin-token") {
      if (v.size() < 16) return invalid("--admin-token must be at least 16 characters");
      c.admin_token = v;
    }
    if (flag == "--routing-url") c.routing_url = v;
    if (flag == "--webhook-ca-file") c.webhook_ca_file = v;
    if (flag == "--match-window") {
      const auto w = parse_duration(v);
      if (!w || *w > std::chrono::minutes(1))
        return invalid(flag + " must be a duration such as 0, 500ms or 2s (at most 60s)");
      c.match_window_ms = static_cast<int>(w->count());
    }
    if (flag == "--webhook-allow-private" || flag == "--migrate") {
      if (v != "true" && v != "false" && v != "1" && v != "0") return invalid(flag + " must be true or false");
      (flag == "--migrate" ? c.migrate : c.webhook_allow_private) = v == "true" || v == "1";
    }
    if (flag == "--archive-dir") {
      if (!v.empty() && v.front() != '/')
        return invalid("--archive-dir must be an absolute path on the database server");
      c.archive_dir = v;
    }
    if (flag == "--bus") {
      if (!v.empty() && v.rfind("nats://", 0) != 0) return invalid("--bus must be a NATS URL (nats://host:port)");
      c.bus_url = v;
    }
    if (flag == "--hot") {
      if (!v.empty() && v.rfind("redis://", 0) != 0) {
        return invalid(
            "--hot must be a Redis URL (redis://host:port[/db]); without it the hot index is in-process only");
      }
      c.hot_url = v;
    }
    if (flag == "--otlp-endpoint") {
      if (!v.empty() && v.rfind("http://", 0) != 0) {
        return invalid("--otlp-endpoint must be an OTLP/HTTP URL (http://host:4318[/v1/traces])");
      }
      c.otlp_endpoint = v;
    }
    if (flag == "--log-level") {
      if (v != "debug" && v != "info" && v != "warn" && v != "error") {
        return invalid("--log-level must be debug, info, warn or error");
      }
      c.log_level = v;
    }
    if (flag == "--store") {
      if (!v.empty() && !is_postgres_url(v)) {
        return invalid(
            "--store must be a PostgreSQL URL (postgres://user@host:port/database); without it the "
            "embedded SQLite store in --data-dir is used");
      }
      c.store_url = v;
    }
    if (auto it = ints.find(flag); it != ints.end()) {
      auto r = to_int(flag, v, it->second.lo, it->second.hi);
      if (!r) return r.status();
      *it->second.field = *r;
    }
    if (auto it = doubles.find(flag); it != doubles.end()) {
      auto r = to_double(flag, v, it->second.lo, it->second.hi);
      if (!r) return r.status();
      *it->second.field = *r;
    }
  }
  if (!c.replica.empty()) {
    // One replica of several shares the store and the bus: the embedded store and the in-process bus
    // are each one process's own.
    if (c.store_url.empty()) return invalid("--replica needs --store postgres://…: replicas share one store");
    if (c.bus_url.empty()) return invalid("--replica needs --bus nats://…: replicas share one bus");
    if (c.advertise.empty()) c.advertise = c.listen;
    if (c.advertise.rfind("0.0.0.0:", 0) == 0 || c.advertise.rfind("[::]:", 0) == 0 ||
        (c.advertise.size() > 2 && c.advertise.substr(c.advertise.size() - 2) == ":0")) {
      return invalid("--advertise must be an address the other replicas can reach (listening on all interfaces)");
    }
  } else if (!c.advertise.empty()) {
    return invalid("--advertise is for --replica");
  }
  return c;
}

}  // namespace pahlawan

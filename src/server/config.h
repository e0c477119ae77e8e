// Config: the command line of `pahlawan serve`, with PAHLAWAN_* environment variables as fallbacks
// (a flag wins over the environment). Unknown flags and bad values are errors, never ignored.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace pahlawan {

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./data";
  std::string store_url;     // empty: the embedded SQLite store in data_dir; postgres://…: PostgreSQL
  bool migrate = false;      // apply missing PostgreSQL migrations at start
  std::string archive_dir;   // PostgreSQL: where partitions past retention are archived (on the DB server)
  std::string bus_url;       // nats://…: committed events also go to NATS JetStream; empty: in-process only
  std::string hot_url;       // redis://…: the hot index is also kept in Redis, shared by every replica
  int hot_timeout_ms = 200;  // one Redis call; slower is a failure and browse reads the store
  std::optional<std::string> admin_token;
  // Several replicas on one PostgreSQL and NATS (docs/replicas.md): this replica's name (empty: the
  // only process), the host:port the others forward its partitions' requests to, and the TTL of
  // its partition leases.
  std::string replica;
  std::string advertise;  // default: --listen
  int lease_ttl_ms = 9000;
  int ack_timeout_s = 300;
  int shard_level = 13;
  double match_radius_m = 10000;
  int max_attempts = 5;
  int max_pending_offers = 3;
  int max_wait_s = 600;                     // an item waits in line for a busy NGO at most this long, then the Geo-DLQ
  int pickup_margin_s = 900;                // ... or until its expiry is this near
  int match_window_ms = 0;                  // > 0: batch assignment over windows this long; 0: one item at a time
  std::optional<std::string> routing_url;   // OSRM; none: travel times by great-circle distance
  int routing_timeout_ms = 1000;            // deadline of one table request
  int routing_breaker_failures = 5;         // consecutive failures (or slow answers) that open the breaker
  int routing_breaker_cooldown_ms = 30000;  // open this long before one probe request
  int threads = 0;                          // 0: one per core
  int hot_window_s = 7200;                  // available items younger than this are browsed from memory
  // A JetStream consumer's message not acknowledged this long goes to another replica (a crashed
  // one's work); a live consumer tells JetStream every third of it that it is still working. At
  // least 5 s: the consumer's thread may spend 2 s in a flush between two of those signals.
  int bus_ack_wait_ms = 30000;
  int webhook_retry_ms = 1000;         // first webhook retry after this, then doubling (plus jitter)
  bool webhook_allow_private = false;  // webhook URLs on loopback/private/link-local addresses allowed
  std::string webhook_ca_file;         // PEM of extra CAs trusted for https webhooks (a private CA)
  int max_streams_per_ngo = 8;         // open GET /v1/events streams per NGO; a new one ends the oldest
  int idempotency_retention_h = 24;    // idempotency keys are kept this long (at least 24 h)
  int outbox_retention_h = 24;         // delivered outbox events are kept this long
  int journal_max_mb = 256;            // events.jsonl rotates past this size
  int journal_keep = 4;                // rotated journal files kept
  double max_post_distance_m = 50000;  // an item's place vs its provider's (0: unbounded)
  int max_connections = 10000;         // open client connections; more are answered 503
  int request_timeout_ms = 10000;      // a request's first byte → all of it read
  int write_timeout_ms = 10000;        // each write to a client (responses, event frames)
  int sse_heartbeat_ms = 10000;        // a comment line on an event stream quiet this long
  double rate_limit = 100;             // requests per second per provider/NGO token (0: off); bursts of 2 s worth
  // Traces (docs/operations.md): spans go to this OTLP/HTTP collector (http://host:port, path
  // /v1/traces unless given); empty: none are recorded. New traces are kept with this probability.
  std::string otlp_endpoint;
  double trace_sample_ratio = 1.0;
  std::string log_level = "info";  // debug, info, warn or error: the least severe line written
};

// args: the words after "serve". env: lookup of environment variables (getenv in production).
Result<Config> parse_config(const std::vector<std::string>& args,
                            const std::function<std::optional<std::string>(const char*)>& env);
std::string config_usage();
// A PostgreSQL connection URI (postgres:// or postgresql://).
bool is_postgres_url(const std::string& s);

}  // namespace pahlawan

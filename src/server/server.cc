#include "server/server.h"

#include "common/fault.h"
#include "common/thread_name.h"
#include "server/saturation_meter.h"

#include <boost/asio.hpp>

#include <sys/stat.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "adapters/bus/in_process_bus.h"
#include "adapters/crypto/openssl_secrets.h"
#include "adapters/geo/s2_hot_geo_index.h"
#include "adapters/geo/s2_ngo_directory.h"
#include "adapters/http/api_handler.h"
#include "adapters/http/http_server.h"
#include "adapters/http/request_forwarder.h"
#include "adapters/journal/file_event_journal.h"
#include "adapters/nats/jetstream_bus.h"
#include "adapters/nats/jetstream_consumer.h"
#include "adapters/otlp/otlp_http_exporter.h"
#include "adapters/postgres/pg_store.h"
#include "adapters/redis/redis_hot_index.h"
#include "adapters/routing/osrm_route_estimator.h"
#include "adapters/sqlite/sqlite_store.h"
#include "adapters/webhook/webhook_sender.h"
#include "app/authenticator.h"
#include "app/hot_index_mirror.h"
#include "app/json_event_factory.h"
#include "app/ledger_sync.h"
#include "app/metrics_subscriber.h"
#include "app/party_sync.h"
#include "app/rate_limiter.h"
#include "app/registry_service.h"
#include "app/surplus_service.h"
#include "common/log.h"
#include "engine/batch_assigner.h"
#include "engine/circuit_breaker.h"
#include "engine/dlq_census.h"
#include "engine/expiry_scheduler.h"
#include "engine/guarded_route_estimator.h"
#include "engine/haversine_route_estimator.h"
#include "engine/lease_keeper.h"
#include "engine/match_trigger.h"
#include "engine/matcher.h"
#include "engine/outbox_relay.h"
#include "engine/retention_sweeper.h"
#include "engine/shard_router.h"
#include "engine/waiting_line.h"

namespace pahlawan {
namespace {

namespace asio = boost::asio;

// Runs shard actors' mailboxes on the I/O threads (fewer threads than cores' worth of context
// switches), timing each task for the saturation gauge.
class AsioExecutor final : public Executor {
 public:
  AsioExecutor(asio::io_context& io, SaturationMeter& meter) : io_(io), meter_(meter) {}
  void post(Task task) override {
    asio::post(io_, [this, t = std::make_shared<Task>(std::move(task))] {
      const auto started = std::chrono::steady_clock::now();
      (*t)();
      meter_.add_busy(std::chrono::steady_clock::now() - started);
    });
  }

 private:
  asio::io_context& io_;
  SaturationMeter& meter_;
};

constexpr const char* kAdminHashKey = "admin_token_sha256";

Status commit_sync(Store& store, UnitOfWork unit) {
  std::promise<Status> done;
  auto f = done.get_future();
  store.commit(std::move(unit), [&done](Status s) { done.set_value(std::move(s)); });
  return f.get();
}

// The admin token: from the flag/env (its hash is recorded), else the one generated at first start.
Result<std::string> admin_token_hash(const Config& config, Store& store, Secrets& secrets) {
  if (config.admin_token) {
    const std::string hash = secrets.hash(*config.admin_token);
    UnitOfWork unit;
    unit.meta.emplace_back(kAdminHashKey, hash);
    if (Status s = commit_sync(store, std::move(unit)); !s) return s;
    log_line(LogLevel::kInfo, "admin token: as given by --admin-token / PAHLAWAN_ADMIN_TOKEN");
    return hash;
  }
  auto stored = store.get_meta(kAdminHashKey);
  if (!stored) return stored.status();
  if (*stored) {
    log_line(LogLevel::kInfo,
             "admin token: generated at first start and shown then (stored hashed; pass --admin-token to set one)");
    return **stored;
  }
  const std::string token = secrets.new_token("pp_admin_");
  UnitOfWork unit;
  unit.meta.emplace_back(kAdminHashKey, secrets.hash(token));
  if (Status s = commit_sync(store, std::move(unit)); !s) return s;
  // The one time a secret is written out, to the terminal (stdout), not the log: the operator who
  // started the server without --admin-token has no other way to learn it.
  std::printf("admin token: %s\n(shown once; only its hash is stored in the data directory)\n", token.c_str());
  std::fflush(stdout);
  return secrets.hash(token);
}

// The data directory holds webhook secrets in plain text (they sign deliveries) and token hashes: only
// the server's own user may read it. Every file the process creates is 0600 (the umask), and a
// directory or files left readable by an older version are tightened at start.
Status secure_data_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  ::umask(077);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(ErrorCode::kUnavailable, "cannot create data directory " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Status(ErrorCode::kUnavailable, "cannot restrict data directory " + dir + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file()) {
      fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
    }
  }
  return Status::ok();
}

// The store the configuration names: the embedded SQLite file in the data directory by default,
// or PostgreSQL. Either is flushed and stopped explicitly at shutdown, before what it calls back.
struct OpenStore {
  std::unique_ptr<Store> store;
  std::function<void()> flush_and_stop;
  LeaseStore* leases = nullptr;  // PostgreSQL: where several replicas keep their partition leases
};

Result<OpenStore> open_store(const Config& config, MetricsRegistry& metrics, const std::string& replica_owner) {
  if (is_postgres_url(config.store_url)) {
    PostgresStoreOptions o;
    o.url = config.store_url;
    o.migrate = config.migrate;
    o.archive_dir = config.archive_dir;
    if (!config.replica.empty()) {
      o.stall_limit = std::chrono::milliseconds(config.lease_ttl_ms);
      o.session_name = replica_owner;
    }
    auto pg = PostgresStore::open(std::move(o), &metrics);
    if (!pg) return pg.status();
    PostgresStore* raw = pg->get();
    return OpenStore{std::move(*pg), [raw] { raw->flush_and_stop(); }, raw};
  }
  auto lite = SqliteStore::open(SqliteStoreOptions{config.data_dir + "/pahlawan.db"}, &metrics);
  if (!lite) return lite.status();
  SqliteStore* raw = lite->get();
  return OpenStore{std::move(*lite), [raw] { raw->flush_and_stop(); }};
}

// The lease that says which replica relays the outbox to NATS (one at a time). 0 is no S2 cell, so
// no partition's lease.
constexpr int64_t kBusRelayLease = 0;

// Ticks the lease keeper (renewals, orphaned partitions) every ninth of the TTL, on its own thread.
class KeeperTicker {
 public:
  KeeperTicker(LeaseKeeper& keeper, Millis every) : keeper_(keeper), every_(every) {}
  ~KeeperTicker() { stop(); }
  void start() {
    thread_ = std::thread([this] {
      name_this_thread("pp-leases");
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, every_, [this] { return stopping_; })) {
        lock.unlock();
        keeper_.tick();
        lock.lock();
      }
    });
  }
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  LeaseKeeper& keeper_;
  const Millis every_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

std::string random_hex(size_t n) {
  std::random_device rd;
  std::string out;
  static const char* kHex = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) out += kHex[rd() % 16];
  return out;
}

}  // namespace

int run_server(const Config& config) {
  set_log_level(parse_log_level(config.log_level).value_or(LogLevel::kInfo));
  if (Status s = secure_data_dir(config.data_dir); !s) {
    log_line(LogLevel::kError, "cannot start", {{"error", s.message()}});
    return 1;
  }
  // Block the stop signals in every thread we start; the main thread waits for them with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  MetricsRegistry metrics;
  SystemClock clock;
  // Several replicas: who this one is (a new incarnation each start), for its leases and sessions.
  const std::string replica_owner =
      config.replica.empty() ? "" : replica_owner_id(config.replica, config.advertise, random_hex(8));
  auto store_r = open_store(config, metrics, replica_owner);
  if (!store_r) {
    log_line(LogLevel::kError, "cannot open store", {{"error", store_r.status().message()}});
    return 1;
  }
  Store& store = *store_r->store;
  OpenSslSecrets secrets;
  auto admin_hash = admin_token_hash(config, store, secrets);
  if (!admin_hash) {
    log_line(LogLevel::kError, "cannot set up the admin token", {{"error", admin_hash.status().message()}});
    return 1;
  }
  Authenticator auth(secrets, *admin_hash);
  auto creds = store.load_credentials();
  if (!creds) {
    log_line(LogLevel::kError, "cannot load credentials", {{"error", creds.status().message()}});
    return 1;
  }
  for (const auto& c : *creds) auth.add(c);

  const unsigned threads = config.threads > 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context io(static_cast<int>(threads));
  SaturationMeter saturation(threads);
  AsioExecutor pool(io, saturation);
  // Traces: every request, and what it causes, is a span of the trace its traceparent names; with
  // --otlp-endpoint the sampled ones go to the collector (docs/operations.md).
  // Span and trace ids: a generator per thread (seeded from the system's entropy), so the request
  // path takes no lock for them.
  auto random64 = [] {
    thread_local std::mt19937_64 rng([] {
      std::random_device rd;
      return (static_cast<uint64_t>(rd()) << 32) ^ rd();
    }());
    return rng();
  };
  std::unique_ptr<OtlpHttpExporter> otlp;
  if (!config.otlp_endpoint.empty()) {
    OtlpOptions otlp_options;
    otlp_options.endpoint = config.otlp_endpoint;
    otlp_options.resource = {{"service.name", "pahlawan"},
                             {"service.instance.id", replica_owner.empty() ? config.listen : replica_owner}};
    auto started = OtlpHttpExporter::start(std::move(otlp_options), metrics);
    if (!started) {
      log_line(LogLevel::kError, "cannot start", {{"error", started.status().message()}});
      return 1;
    }
    otlp = std::move(*started);
  }
  const Tracer tracer(otlp.get(), config.trace_sample_ratio, random64);
  S2HotGeoIndex local_index;
  // --hot redis://: the hot index is also written to Redis, which every replica browses (the mirror's
  // thread writes it; docs/replicas.md). Its cold count and partition test are wired once the router
  // and the keeper exist, before the mirror's thread starts.
  std::unique_ptr<RedisLink> redis;
  std::unique_ptr<RedisHotIndex> shared_index;
  std::unique_ptr<HotIndexMirror> mirror;
  std::function<int64_t()> cold_count;
  std::function<bool(int64_t)> owns_partition;
  if (!config.hot_url.empty()) {
    auto endpoint = parse_redis_url(config.hot_url);
    if (!endpoint) {
      log_line(LogLevel::kError, "--hot", {{"error", endpoint.status().message()}});
      return 1;
    }
    redis = std::make_unique<RedisLink>(*endpoint, Millis(config.hot_timeout_ms));
    shared_index = std::make_unique<RedisHotIndex>(*redis);
    HotIndexMirror::Options mirror_options;
    mirror_options.owner = replica_owner.empty() ? "pahlawan@" + config.listen + "#" + random_hex(8) : replica_owner;
    mirror_options.cold = [&cold_count] { return cold_count ? cold_count() : 0; };
    if (!config.replica.empty()) {
      mirror_options.owns = [&owns_partition](int64_t p) { return owns_partition && owns_partition(p); };
    }
    mirror = std::make_unique<HotIndexMirror>(local_index, *shared_index, clock, std::move(mirror_options));
  }
  HotGeoIndex& index = mirror ? static_cast<HotGeoIndex&>(*mirror) : local_index;
  DeadlineQueue expiries;
  IdGenerator ids(clock);
  JsonEventFactory events(ids, clock);
  ShardRouter router(config.shard_level, store, index, expiries, events, pool, clock,
                     std::chrono::seconds(config.hot_window_s));
  cold_count = [&router] { return router.cold_available(); };
  router.enable_tracing(tracer);

  // Matching: NGOs by place, their rolling load, and travel-time ranking — OSRM behind a circuit
  // breaker when --routing-url is set (a slow answer, half the deadline, counts as a failure), with
  // great-circle distance as the fallback and as the only ranking otherwise.
  S2NgoDirectory ngos;
  NgoLedger ledger(clock);
  HaversineRouteEstimator haversine;
  std::unique_ptr<OsrmRouteEstimator> osrm;
  CircuitBreakerOptions breaker_options;
  breaker_options.failure_threshold = config.routing_breaker_failures;
  breaker_options.slow_call = Millis(config.routing_timeout_ms / 2);
  breaker_options.cool_down = Millis(config.routing_breaker_cooldown_ms);
  CircuitBreaker breaker(clock, breaker_options);
  std::unique_ptr<GuardedRouteEstimator> guarded;
  if (config.routing_url) {
    auto created =
        OsrmRouteEstimator::create(OsrmOptions{*config.routing_url, "driving", Millis(config.routing_timeout_ms)});
    if (!created) {
      log_line(LogLevel::kError, "cannot start", {{"error", created.status().message()}});
      return 1;
    }
    osrm = std::move(*created);
    guarded = std::make_unique<GuardedRouteEstimator>(*osrm, haversine, breaker, clock, &metrics);
  }
  RouteEstimator& routes = guarded ? static_cast<RouteEstimator&>(*guarded) : haversine;
  MatcherSettings match_settings;
  match_settings.policy.radius_m = config.match_radius_m;
  match_settings.policy.max_attempts = config.max_attempts;
  match_settings.policy.max_pending_offers = config.max_pending_offers;
  match_settings.ack_timeout = std::chrono::seconds(config.ack_timeout_s);
  match_settings.max_wait = std::chrono::seconds(config.max_wait_s);
  match_settings.pickup_margin = std::chrono::seconds(config.pickup_margin_s);
  Matcher matcher(ngos, ledger, routes, clock, match_settings, &metrics);
  WaitingLine line(ngos, ledger, match_settings.policy, clock, &metrics);
  // --match-window: batch assignment (docs/matching.md); its windows close on the deadline thread.
  std::unique_ptr<BatchAssigner> batch;
  if (config.match_window_ms > 0) {
    batch = std::make_unique<BatchAssigner>(std::chrono::milliseconds(config.match_window_ms), ngos, ledger, &line,
                                            expiries, match_settings.policy, clock);
    metrics.add_collector([&metrics, &batch] {
      metrics.gauge("matching_batch_windows", "Batch assignment windows closed since start")
          .set(static_cast<double>(batch->batches()));
    });
  }
  {
    auto all = store.load_ngos();
    auto claims = store.find_claimed_since(clock.now() - std::chrono::hours(24));
    if (!all || !claims) {
      log_line(LogLevel::kError, "cannot load NGOs", {{"error", (!all ? all.status() : claims.status()).message()}});
      return 1;
    }
    for (auto& n : *all) ngos.add(std::move(n));
    for (const auto& c : *claims) ledger.record_claim(*c.claimed_by, c.id, c.quantity_kg, *c.claimed_at);
  }
  router.enable_matching(matcher, ledger, &line, batch.get());
  // Several replicas (docs/replicas.md): this replica serves the partitions whose leases it holds,
  // adopting each one's items as its lease is gained and dropping them when it is lost; the rest
  // are forwarded to their owners.
  const bool replicated = !config.replica.empty();
  std::unique_ptr<LeaseKeeper> keeper;
  if (replicated) {
    if (!store_r->leases) {
      log_line(LogLevel::kError, "--replica needs a store that keeps leases (PostgreSQL)");
      return 1;
    }
    const std::string& owner = replica_owner;
    LeaseKeeper::Callbacks callbacks;
    callbacks.gained = [&router, &mirror](int64_t partition, int64_t epoch) {
      if (partition == kBusRelayLease) return;
      // What the shared copy holds of it may be stale (writes its last owner lost): reconciled.
      if (mirror) mirror->request_rebuild();
      if (Status s = router.adopt_partition(partition); !s) {
        // Its items are adopted one by one as commands reach them (find_item reads the store), but
        // their deadlines wait for the next owner: say so loudly.
        log_line(LogLevel::kError, "cannot load a gained partition's items",
                 {{"partition", partition}, {"epoch", epoch}, {"error", s.message()}});
      }
    };
    callbacks.lost = [&router](int64_t partition) {
      if (partition != kBusRelayLease) router.drop_partition(partition);
    };
    keeper = std::make_unique<LeaseKeeper>(*store_r->leases, clock, owner, Millis(config.lease_ttl_ms),
                                           std::move(callbacks));
    router.enable_leases(*keeper);
    owns_partition = [&keeper](int64_t p) { return keeper->holds(p); };
    log_line(LogLevel::kInfo, "replica", {{"owner", owner}, {"lease_ttl_ms", config.lease_ttl_ms}});
  } else if (Status s = router.load_open_items(); !s) {
    log_line(LogLevel::kError, "cannot load surplus", {{"error", s.message()}});
    return 1;
  }
  ExpiryScheduler expiry(expiries, router, clock);

  InProcessBus bus;
  // With --bus, the effects that must happen once per cluster (matching a posted item, counting the
  // food rescued) come from JetStream durable consumers instead (below); the rest stays in process.
  const bool via_jetstream = !config.bus_url.empty();
  MetricsSubscriber metrics_subscriber(metrics);
  if (!via_jetstream) bus.subscribe(metrics_subscriber);
  // A new NGO brings free slots: as many waiting items as it may hold offers go to their actors (with
  // batch windows, a window opens near it).
  auto new_ngo_slots = [&line, &batch, slots = config.max_pending_offers](const std::string& ngo_id) {
    if (batch) return batch->slot_freed(ngo_id);
    for (int i = 0; i < slots; ++i) line.slot_freed(ngo_id);
  };
  // Parties registered, and tokens replaced, through any process reach this one's authenticator and
  // NGO directory through their admin.* events.
  PartySync party_sync(store, auth, &ngos, new_ngo_slots);
  bus.subscribe(party_sync);
  // Replicas: the offers and claims the others made reach this replica's ledger (a cache; the store
  // checks every offer's budget in its commit).
  LedgerSync ledger_sync(ledger);
  if (!config.replica.empty()) bus.subscribe(ledger_sync);
  auto journal =
      FileEventJournal::open(config.data_dir + "/events.jsonl",
                             JournalOptions{static_cast<uint64_t>(config.journal_max_mb) << 20, config.journal_keep});
  if (!journal) {
    log_line(LogLevel::kError, "cannot start", {{"error", journal.status().message()}});
    return 1;
  }
  bus.subscribe(**journal);
  MatchTrigger match_trigger(router);
  if (!via_jetstream) bus.subscribe(match_trigger);
  SseHub sse_hub(static_cast<size_t>(config.max_streams_per_ngo), &tracer);
  bus.subscribe(sse_hub);
  WebhookOptions webhook_options;
  webhook_options.base_backoff = std::chrono::milliseconds(config.webhook_retry_ms);
  webhook_options.ca_file = config.webhook_ca_file;
  webhook_options.allow_private = config.webhook_allow_private;
  webhook_options.tracer = &tracer;
  // On the bus, JetStream keeps what is not delivered yet: no cursor of the sender's own.
  auto webhooks_r = WebhookSender::create(ngos, metrics, webhook_options, via_jetstream ? nullptr : &store);
  if (!webhooks_r) {
    log_line(LogLevel::kError, "cannot start", {{"error", webhooks_r.status().message()}});
    return 1;
  }
  WebhookSender& webhooks = **webhooks_r;
  if (!via_jetstream) bus.subscribe(webhooks);
  if (Status s = webhooks.start(); !s) {  // re-queues undelivered offers; before the relay publishes
    log_line(LogLevel::kError, "cannot start webhook delivery", {{"error", s.message()}});
    return 1;
  }
  // With --bus, a second relay with its own cursor ("nats") hands the same events to JetStream: a
  // NATS outage then holds back that relay and what the consumers drive (matching new posts, the
  // rescue metrics, webhooks) until it returns; posts, claims and streams go on.
  std::unique_ptr<JetStreamBus> jetstream;
  std::unique_ptr<OutboxRelay> nats_relay;
  if (!config.bus_url.empty()) {
    JetStreamOptions jo;
    jo.url = config.bus_url;
    jo.tracer = &tracer;
    auto js = JetStreamBus::connect(jo, &metrics);
    if (!js) {
      log_line(LogLevel::kError, "cannot start", {{"error", js.status().message()}});
      return 1;
    }
    jetstream = std::move(*js);
    nats_relay = std::make_unique<OutboxRelay>(store, *jetstream, "nats");
    // Replicas relay to NATS one at a time, whoever holds the relay's lease.
    if (keeper) nats_relay->set_gate([&keeper] { return keeper->fence_for(kBusRelayLease).is_ok(); });
  }
  // Each replica's own cursor: every replica hands every event to its own streams and party sync.
  OutboxRelay relay(store, bus, replicated ? "relay-" + config.replica : "relay");
  store.on_events_committed([&relay, &nats_relay] {
    relay.notify();
    if (nats_relay) nats_relay->notify();
  });
  for (OutboxRelay* r : {&relay, nats_relay.get()}) {
    if (!r) continue;
    if (Status s = r->start(); !s) {
      log_line(LogLevel::kError, "cannot start the outbox relay", {{"error", s.message()}});
      return 1;
    }
  }
  // Durable pull consumers: "matcher" takes the posted events, "metrics" every surplus event. Each
  // acknowledges a batch once its subscriber has taken it, and applies an event id once. "webhooks"
  // takes the offers and acknowledges each once its delivery is finished.
  std::vector<std::unique_ptr<JetStreamConsumer>> consumers;
  if (via_jetstream) {
    struct Wanted {
      const char* durable;
      const char* filter;
      EventSubscriber* subscriber;
    };
    std::vector<Wanted> wanted = {Wanted{"metrics", "pp.surplus.>", &metrics_subscriber}};
    // Replicas match a post when its insert commits, on the replica that owns its partition.
    if (!replicated) wanted.push_back(Wanted{"matcher", "pp.surplus.posted.>", &match_trigger});
    for (const Wanted& w : wanted) {
      JetStreamConsumerOptions co;
      co.link.url = config.bus_url;
      co.link.tracer = &tracer;
      co.durable = w.durable;
      co.filter = w.filter;
      co.ack_wait = std::chrono::milliseconds(config.bus_ack_wait_ms);
      auto c = JetStreamConsumer::start(co, {w.subscriber}, &metrics);
      if (!c) {
        log_line(LogLevel::kError, "cannot start", {{"error", c.status().message()}});
        return 1;
      }
      consumers.push_back(std::move(*c));
    }
    JetStreamConsumerOptions co;
    co.link.url = config.bus_url;
    co.link.tracer = &tracer;
    co.ack_wait = std::chrono::milliseconds(config.bus_ack_wait_ms);
    co.durable = "webhooks";
    co.filter = "pp.surplus.offered.>";
    co.max_ack_pending = static_cast<int>(webhook_options.max_queue);  // what the sender would queue
    auto c = JetStreamConsumer::start_deferred(co, webhooks, &metrics);
    if (!c) {
      log_line(LogLevel::kError, "cannot start", {{"error", c.status().message()}});
      return 1;
    }
    consumers.push_back(std::move(*c));
  }
  RetentionOptions retention_options;
  retention_options.idempotency = std::chrono::hours(config.idempotency_retention_h);
  retention_options.outbox = std::chrono::hours(config.outbox_retention_h);
  // The cursors that hold outbox rows back: the in-process relay's, and webhooks' own or, on the
  // bus, the relay to JetStream's (which keeps what its consumers have not taken). A cursor left by
  // an earlier configuration holds nothing back.
  // Replicas: only the relay to JetStream's; each replica's own relay feeds only its live streams
  // and party sync, and one that falls a retention period behind skips what was pruned.
  retention_options.consumers = replicated      ? std::vector<std::string>{"nats"}
                                : via_jetstream ? std::vector<std::string>{"relay", "nats"}
                                                : std::vector<std::string>{"relay", "webhooks"};
  RetentionSweeper retention(store, clock, retention_options);
  retention.start();
  // The Geo-DLQ by region, counted off the request path (with replicas: the one shared DLQ, the
  // same on every replica).
  DlqCensus dlq_census(store, clock);
  dlq_census.start();
  metrics.add_collector([&metrics, &dlq_census] {
    dlq_census.nudge();  // for the next scrape
    for (const auto& [region, n] : dlq_census.by_region()) {
      metrics
          .gauge("surplus_dlq_items", "Items in the Geo-DLQ an operator can still rescue, by region (S2 cell, level 6)",
                 "region=\"" + region + "\"")
          .set(static_cast<double>(n));
    }
  });
  if (guarded) {
    metrics.add_collector([&metrics, &breaker] {
      metrics.gauge("routing_circuit_breaker_state", "Breaker around the OSRM client: 0 closed, 1 half-open, 2 open")
          .set(breaker.state_value());
    });
  }
  // The outbox's lag: how old the oldest committed event is that a relay has not handed on yet — to
  // this process's own subscribers (relay="local": event streams, webhooks, metrics) and to
  // JetStream (relay="nats", on the replica holding the bus relay's lease). 0: caught up.
  metrics.add_collector([&metrics, &relay, &nats_relay, &clock] {
    auto lag = [&](const OutboxRelay& r, const char* label) {
      const auto oldest = r.oldest_unpublished();
      const double s = oldest ? std::chrono::duration<double>(clock.now() - *oldest).count() : 0.0;
      const std::string relay_label = std::string("relay=\"") + label + "\"";
      metrics
          .gauge("outbox_lag_seconds", "Age of the oldest committed event a relay has not handed on yet (0: caught up)",
                 relay_label)
          .set(s > 0 ? s : 0.0);
      metrics
          .gauge("outbox_lag_events",
                 "Committed events a relay has not handed on yet, as of its last read (0: caught up)", relay_label)
          .set(static_cast<double>(r.unpublished_events()));
    };
    lag(relay, "local");
    if (nats_relay) lag(*nats_relay, "nats");
  });
  metrics.add_collector([&metrics, &line] {
    for (const auto& [region, n] : line.size_by_region()) {
      metrics
          .gauge("surplus_waiting_items", "Items waiting in line for an NGO slot, by region (S2 cell, level 6)",
                 "region=\"" + region + "\"")
          .set(static_cast<double>(n));
    }
  });
  metrics.add_collector([&metrics, &relay, &index, &router, &expiries, &saturation, &sse_hub] {
    metrics.gauge("sse_streams_open", "Open GET /v1/events streams").set(static_cast<double>(sse_hub.open_streams()));
    metrics.gauge("outbox_relay_position", "Seq of the last outbox event handed to the bus")
        .set(static_cast<double>(relay.position()));
    metrics.gauge("hot_index_items", "Available surplus items in the in-process geo index")
        .set(static_cast<double>(index.size()));
    metrics.gauge("shard_actors", "Shard actors alive (one per active S2 cell)")
        .set(static_cast<double>(router.actor_count()));
    metrics.gauge("expiry_queue_depth", "Deadlines waiting in the expiry queue (expiries, offer deadlines, cooling)")
        .set(static_cast<double>(expiries.size()));
    // Test builds: the armed fault points (tests watch them; see fault::armed_points).
    for (const auto& f : fault::armed_points()) {
      const std::string label = "point=\"" + f.point + "\"";
      metrics.gauge("fault_point_hits", "Test builds: times an armed fault point was reached", label)
          .set(static_cast<double>(f.hits));
      metrics.gauge("fault_point_delaying", "Test builds: threads in an armed fault point's delay now", label)
          .set(static_cast<double>(f.delaying));
    }
    metrics
        .gauge("matching_engine_saturation_ratio",
               "Share of the worker threads' time spent running shard actors since the previous scrape")
        .set(saturation.read());
  });

  RegistryService registry(store, auth, secrets, ids, clock, &ngos);
  registry.allow_private_webhooks(config.webhook_allow_private);
  registry.on_ngo_added(new_ngo_slots);
  // Store reads a request may wait on (listings, single items, the event replay, keyed posts,
  // commands on items not open in memory) run here, so a slow read never holds an I/O thread and with
  // it every connection that thread serves. Four: a PostgreSQL read is a round trip, mostly waiting.
  ThreadPool reads(4);
  SurplusService surplus(router, store, index, ids, clock, &matcher, &ngos);
  surplus.set_read_executor(&reads);
  registry.on_provider_added([&surplus](const Provider& p) { surplus.learn_provider(p); });
  surplus.set_max_post_distance_m(config.max_post_distance_m);
  surplus.set_waiting_line(&line);
  surplus.browse_from_store(replicated);
  // Redis answers browse while it answers fast: three failures or slow calls (over the call timeout)
  // in a row send browse to the store for a second, then one probe.
  CircuitBreaker hot_breaker(clock, CircuitBreakerOptions{3, Millis(config.hot_timeout_ms), Millis(1000)});
  if (mirror) {
    surplus.set_shared_index(shared_index.get(), &hot_breaker, &tracer);
    metrics.add_collector([&metrics, &mirror, &surplus, &hot_breaker] {
      const auto st = mirror->stats();
      metrics.gauge("hot_shared_in_step", "1 when this replica's part of the shared (Redis) hot index is written")
          .set(st.in_step ? 1 : 0);
      metrics.gauge("hot_shared_queue_depth", "Hot index changes waiting to be written to Redis")
          .set(static_cast<double>(st.queued));
      metrics.gauge("hot_shared_written", "Hot index changes written to Redis").set(static_cast<double>(st.written));
      metrics.gauge("hot_shared_rebuilds", "Times this replica rebuilt its part of the Redis hot index")
          .set(static_cast<double>(st.rebuilds));
      metrics.gauge("hot_shared_failures", "Failed writes to the Redis hot index")
          .set(static_cast<double>(st.failures));
      metrics.gauge("hot_shared_breaker_state", "Breaker in front of Redis reads: 0 closed, 1 half-open, 2 open")
          .set(hot_breaker.state_value());
      const auto src = surplus.browse_sources();
      metrics.gauge("browse_source", "Browse requests by where they were answered from", "source=\"shared\"")
          .set(static_cast<double>(src.shared));
      metrics.gauge("browse_source", "Browse requests by where they were answered from", "source=\"fallback\"")
          .set(static_cast<double>(src.fallback));
    });
  }
  std::atomic<bool> ready{false};
  RateLimiter limiter(clock, config.rate_limit, 2 * config.rate_limit);
  ApiHandler handler(ApiHandlerDeps{auth, limiter, registry, surplus, metrics, sse_hub, secrets, reads, ready, tracer});
  std::unique_ptr<RequestForwarder> forwarder;
  if (replicated) {
    forwarder = std::make_unique<RequestForwarder>(std::chrono::milliseconds(config.request_timeout_ms), tracer);
    handler.set_forwarder(forwarder.get());
    metrics.add_collector([&metrics, &keeper, &forwarder] {
      metrics.gauge("replica_partitions_held", "Partition leases this replica holds")
          .set(static_cast<double>(keeper->held().size()));
      metrics.gauge("replica_requests_forwarded", "Commands forwarded to the replica owning their partition")
          .set(static_cast<double>(forwarder->forwarded()));
      metrics.gauge("replica_partitions_handed_over", "Partitions this replica gave to another (balancing)")
          .set(static_cast<double>(keeper->handed_over()));
      const char* help = "Lease changes on this replica: acquired, lost (taken by another or unrenewable), handed over";
      metrics.counter("replica_lease_changes_total", help, "change=\"acquired\"")
          .set_total(static_cast<double>(keeper->acquired()));
      metrics.counter("replica_lease_changes_total", help, "change=\"lost\"")
          .set_total(static_cast<double>(keeper->lost()));
      metrics.counter("replica_lease_changes_total", help, "change=\"handed_over\"")
          .set_total(static_cast<double>(keeper->handed_over()));
      metrics
          .gauge("replica_partitions_orphaned",
                 "Other replicas' partitions whose lease looked unrenewed at the last read (no owner until taken)")
          .set(static_cast<double>(keeper->orphaned_seen()));
    });
  }
  HttpLimits http_limits;
  http_limits.max_connections = config.max_connections;
  http_limits.request_timeout = std::chrono::milliseconds(config.request_timeout_ms);
  http_limits.write_timeout = std::chrono::milliseconds(config.write_timeout_ms);
  http_limits.sse_heartbeat = std::chrono::milliseconds(config.sse_heartbeat_ms);
  HttpServer http(io, handler, metrics, sse_hub, http_limits);
  auto port = http.listen(config.listen);
  if (!port) {
    log_line(LogLevel::kError, "cannot start", {{"error", port.status().message()}});
    return 1;
  }
  expiry.start();
  if (mirror) mirror->start();
  std::unique_ptr<KeeperTicker> ticker;
  if (keeper) {
    ticker = std::make_unique<KeeperTicker>(*keeper, Millis(config.lease_ttl_ms / 9));
    ticker->start();
  }
  std::vector<std::thread> io_threads;
  for (unsigned i = 0; i < threads; ++i)
    io_threads.emplace_back([&io] {
      name_this_thread("pp-io");
      io.run();
    });
  auto work = asio::make_work_guard(io);

  const std::string host = config.listen.substr(0, config.listen.rfind(':'));
  ready = true;
  log_lifecycle("pahlawan listening on http://" + host + ":" + std::to_string(*port),
                {{"data_dir", config.data_dir}, {"threads", static_cast<int64_t>(threads)}});

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log_lifecycle("draining", {{"signal", sig}});
  ready = false;
  http.drain(std::chrono::seconds(30));
  if (forwarder) forwarder->stop();
  reads.stop();  // answers the reads still queued while the I/O threads can still send them
  expiry.stop();
  work.reset();
  io.stop();
  for (auto& t : io_threads) t.join();
  // Answers the route requests still out (to actors that no longer run) before anything they use goes.
  if (osrm) osrm->stop();
  relay.stop();
  if (nats_relay) nats_relay->stop();
  // Deliveries in flight finish while their consumer can still acknowledge them; what the consumer
  // hands over after this stays unacknowledged, and JetStream hands it out again.
  webhooks.stop();
  consumers.clear();
  retention.stop();
  dlq_census.stop();
  // The next owners need not wait out the TTL. A unit still queued commits unless one of them has
  // already taken its partition (fencing).
  // The last changes go to Redis while this replica still holds their partitions.
  if (mirror) mirror->stop();
  if (ticker) ticker->stop();
  if (keeper) keeper->release_all();
  store_r->flush_and_stop();
  if (otlp) otlp->stop();  // the last spans, once (a dead collector costs one request timeout)
  log_lifecycle("drained; bye");
  return 0;
}

}  // namespace pahlawan

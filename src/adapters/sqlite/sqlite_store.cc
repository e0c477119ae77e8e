#include "adapters/sqlite/sqlite_store.h"

#include <chrono>
#include <thread>

#include "adapters/sqlite/sqlite_db.h"
#include "adapters/sqlite/sqlite_reader_lease.h"
#include "adapters/sqlite/sqlite_rows.h"
#include "adapters/sqlite/sqlite_schema.h"
#include "common/fault.h"
#include "common/thread_name.h"

namespace pahlawan {

using namespace sqlite_rows;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(SqliteStoreOptions options, MetricsRegistry* metrics) {
  auto writer = SqliteDb::open(options.path, false);
  if (!writer) return writer.status();
  auto& db = **writer;
  // WAL lets readers run beside the committer; synchronous=FULL makes every COMMIT an fsync of the
  // WAL, which is what lets us acknowledge a write only once it survives a power cut.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=OFF"}) {
    Status s = db.exec(pragma);
    if (!s) return s;
  }
  if (Status s = db.exec(kSqliteSchema); !s) return s;
  // Databases made by earlier versions lack later columns: each is added once. Offers recorded before
  // the recipient column existed get it from their payload.
  struct Column {
    const char *table, *name, *ddl, *backfill;
  };
  for (const Column& c : {
           Column{"surplus", "offered_to", "ALTER TABLE surplus ADD COLUMN offered_to TEXT NOT NULL DEFAULT ''",
                  nullptr},
           Column{"surplus", "dlq_reason", "ALTER TABLE surplus ADD COLUMN dlq_reason TEXT", nullptr},
           Column{"surplus", "dlq_at", "ALTER TABLE surplus ADD COLUMN dlq_at INTEGER", nullptr},
           Column{"surplus", "waiting_since", "ALTER TABLE surplus ADD COLUMN waiting_since INTEGER", nullptr},
           Column{"outbox", "recipient", "ALTER TABLE outbox ADD COLUMN recipient TEXT",
                  "UPDATE outbox SET recipient = json_extract(data, '$.offer.ngo_id') WHERE type = 'surplus.offered'"},
           Column{"outbox", "region", "ALTER TABLE outbox ADD COLUMN region TEXT", nullptr},
       }) {
    auto present = has_column(db, c.table, c.name);
    if (!present) return present.status();
    if (*present) continue;
    if (Status s = db.exec(c.ddl); !s) return s;
    if (c.backfill) {
      if (Status s = db.exec(c.backfill); !s) return s;
    }
  }
  if (Status s = db.exec(kSqliteLateIndexes); !s) return s;
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(options), std::move(*writer), metrics));
}

SqliteStore::SqliteStore(SqliteStoreOptions options, std::unique_ptr<SqliteDb> writer, MetricsRegistry* metrics)
    : options_(std::move(options)), writer_(std::move(writer)), queue_(options_.max_queue, options_.max_batch) {
  if (metrics) {
    batch_size_ = &metrics->histogram("store_commit_batch_units", "Units of work committed per transaction",
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
    commit_seconds_ = &metrics->histogram("store_commit_seconds", "Time to apply and fsync one group commit",
                                          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1});
    rejected_ = &metrics->counter("store_commit_rejected_total", "Units refused because the queue was full");
  }
  // Replaces SQLite's automatic checkpoint, which would run inside the committer's COMMIT.
  sqlite3_wal_hook(writer_->raw(), &SqliteStore::on_wal_commit, this);
  queue_.start(
      "pp-commit", [this](std::vector<CommitJob>& batch) { commit_batch(batch); }, rejected_);
  checkpointer_ = std::thread([this] {
    name_this_thread("pp-checkpoint");
    run_checkpointer();
  });
}

int SqliteStore::on_wal_commit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  if (pages >= 1000) {
    std::lock_guard lock(store->mu_);
    store->checkpoint_due_ = true;
    store->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::run_checkpointer() {
  auto db = SqliteDb::open(options_.path, false);
  if (!db) return;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_due_; });
      if (stopping_) return;
      checkpoint_due_ = false;
    }
    // PASSIVE: copies what it can without blocking the committer or readers.
    (void)sqlite3_wal_checkpoint_v2((*db)->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

SqliteStore::~SqliteStore() {
  flush_and_stop();
}

void SqliteStore::flush_and_stop() {
  queue_.stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteStore::on_events_committed(UniqueFunction<void()> listener) {
  listener_ = std::move(listener);
}

void SqliteStore::commit(UnitOfWork unit, CommitDone done) {
  queue_.submit(std::move(unit), std::move(done));
}

// Units almost never fail, so the batch is first applied without a savepoint per unit (three
// statements fewer each). Only if one fails is the transaction redone with savepoints, so that the
// failing unit alone is rolled back.
void SqliteStore::commit_batch(std::vector<CommitJob>& batch) {
  answer_group_commit(
      batch,
      [this](std::vector<CommitJob>& b, std::vector<Status>& results) {
        Status tx = apply_batch(b, results, false);
        if (tx.code() == ErrorCode::kConflict) tx = apply_batch(b, results, true);
        return tx;
      },
      commit_seconds_,
      [this] {
        if (listener_) listener_();
      });
}

// One transaction over the batch. Without savepoints, the first failing unit aborts it all and its
// Status is returned (kConflict: worth retrying with savepoints). With savepoints, each unit's result
// lands in `results` and only BEGIN/COMMIT failures are returned.
Status SqliteStore::apply_batch(std::vector<CommitJob>& batch, std::vector<Status>& results, bool savepoints) {
  if (Status s = run_cached("BEGIN IMMEDIATE"); !s) return s;
  // BEGIN IMMEDIATE holds the write lock: no lease can change before this transaction ends.
  auto fenced =
      fenced_out(batch, results, [this](const std::set<int64_t>& partitions) { return lease_epochs(partitions); });
  if (!fenced) {
    (void)run_cached("ROLLBACK");
    return Status(ErrorCode::kUnavailable, fenced.status().message());
  }
  std::vector<bool>& skip = *fenced;
  if (Status s = refuse_over_budget(batch, results, skip, [this](const auto& since) { return ngo_holdings(since); });
      !s) {
    (void)run_cached("ROLLBACK");
    return Status(ErrorCode::kUnavailable, s.message());
  }
  size_t applied = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (skip[i]) continue;  // lease lost, or no room at its NGO: its result says so, nothing is written
    results[i] = Status::ok();
    if (batch[i].unit.empty()) continue;  // a barrier: nothing to write, answered after the commit
    if (!savepoints) {
      Status s = apply(batch[i].unit);
      if (!s) {
        (void)run_cached("ROLLBACK");
        return s.code() == ErrorCode::kConflict ? s : Status(ErrorCode::kUnavailable, s.message());
      }
      ++applied;
      continue;
    }
    Status s = run_cached("SAVEPOINT unit");
    if (s) s = apply(batch[i].unit);
    if (!s) (void)run_cached("ROLLBACK TO unit");
    (void)run_cached("RELEASE unit");
    results[i] = s;
    applied += s.is_ok();
  }
  // Crash here: nothing of the batch is durable and nothing was acknowledged. Error: the batch fails.
  if (PP_FAULT("store.before_commit")) {
    (void)run_cached("ROLLBACK");
    return Status(ErrorCode::kUnavailable, "the store could not commit");
  }
  if (Status committed = run_cached("COMMIT"); !committed) {
    (void)run_cached("ROLLBACK");
    return Status(ErrorCode::kUnavailable, committed.message());
  }
  if (batch_size_) batch_size_->observe(static_cast<double>(applied));
  return Status::ok();
}

Result<std::map<std::string, NgoHolding>> SqliteStore::ngo_holdings(const std::map<std::string, TimePoint>& since) {
  std::map<std::string, NgoHolding> out;
  for (const auto& [id, t] : since) {
    NgoHolding& h = out[id];
    {
      ASSIGN_STMT(st, *writer_,
                  "SELECT count(*), coalesce(sum(quantity_kg), 0) FROM surplus "
                  "WHERE status = 'available' AND offer_ngo_id = ?");
      st.bind(1, id);
      auto row = st.step();
      if (!row) return row.status();
      h.pending = static_cast<int>(st.int64(0));
      h.offered_kg = st.real(1);
    }
    ASSIGN_STMT(st, *writer_,
                "SELECT coalesce(sum(quantity_kg), 0) FROM surplus WHERE claimed_by = ? AND claimed_at > ?");
    st.bind(1, id).bind(2, to_unix_ms(t));
    auto row = st.step();
    if (!row) return row.status();
    h.claimed_kg = st.real(0);
  }
  return out;
}

Result<std::map<int64_t, int64_t>> SqliteStore::lease_epochs(const std::set<int64_t>& partitions) {
  std::map<int64_t, int64_t> out;
  for (int64_t p : partitions) {
    ASSIGN_STMT(st, *writer_, "SELECT epoch FROM leases WHERE partition_id = ?");
    st.bind(1, p);
    auto row = st.step();
    if (!row) return row.status();
    if (*row) out[p] = st.int64(0);
  }
  return out;
}

Status SqliteStore::open_lease_db() {
  if (lease_db_) return Status::ok();
  auto db = SqliteDb::open(options_.path, false);
  if (!db) return db.status();
  lease_db_ = std::move(*db);
  return Status::ok();
}

namespace {

// The lease a writing statement's RETURNING gave, if any, after running it to completion (its write
// is committed then).
Result<std::optional<Lease>> returned_lease(SqliteStmt& st) {
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Lease>();
  Lease l{st.int64(0), st.text(1), st.int64(2), from_unix_ms(st.int64(3))};
  RETURN_IF_ERROR(st.run());
  return std::optional<Lease>(std::move(l));
}

}  // namespace

Result<std::optional<Lease>> SqliteStore::acquire(int64_t partition, const std::string& owner, Millis ttl) {
  std::lock_guard lock(lease_mu_);
  RETURN_IF_ERROR(open_lease_db());
  const int64_t now = to_unix_ms(SystemClock().now());
  // Granted when free, expired, or already the owner's; the epoch moves only with the owner.
  ASSIGN_STMT(st, *lease_db_,
              "INSERT INTO leases (partition_id, owner, epoch, expires_at) VALUES (?1, ?2, 1, ?3 + ?4) "
              "ON CONFLICT (partition_id) DO UPDATE SET "
              "  epoch = CASE WHEN leases.owner = excluded.owner THEN leases.epoch ELSE leases.epoch + 1 END, "
              "  owner = excluded.owner, expires_at = excluded.expires_at "
              "WHERE leases.owner = excluded.owner OR leases.expires_at <= ?3 "
              "RETURNING partition_id, owner, epoch, expires_at");
  st.bind(1, partition).bind(2, owner).bind(3, now).bind(4, static_cast<int64_t>(ttl.count()));
  return returned_lease(st);  // none: another owner's, unexpired
}

Status SqliteStore::release(int64_t partition, const std::string& owner, int64_t epoch) {
  std::lock_guard lock(lease_mu_);
  RETURN_IF_ERROR(open_lease_db());
  const int64_t now = to_unix_ms(SystemClock().now());
  ASSIGN_STMT(st, *lease_db_, "UPDATE leases SET expires_at = ? WHERE partition_id = ? AND owner = ? AND epoch = ?");
  st.bind(1, now).bind(2, partition).bind(3, owner).bind(4, epoch);
  return st.run();
}

Result<std::optional<Lease>> SqliteStore::hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                                    const std::string& to, Millis ttl) {
  std::lock_guard lock(lease_mu_);
  RETURN_IF_ERROR(open_lease_db());
  const int64_t now = to_unix_ms(SystemClock().now());
  ASSIGN_STMT(st, *lease_db_,
              "UPDATE leases SET owner = ?1, epoch = epoch + 1, expires_at = ?2 + ?3 "
              "WHERE partition_id = ?4 AND owner = ?5 AND epoch = ?6 "
              "RETURNING partition_id, owner, epoch, expires_at");
  st.bind(1, to)
      .bind(2, now)
      .bind(3, static_cast<int64_t>(ttl.count()))
      .bind(4, partition)
      .bind(5, from)
      .bind(6, epoch);
  return returned_lease(st);  // none: not the holder at that epoch
}

Result<std::vector<Lease>> SqliteStore::leases() {
  std::lock_guard lock(lease_mu_);
  RETURN_IF_ERROR(open_lease_db());
  ASSIGN_STMT(st, *lease_db_, "SELECT partition_id, owner, epoch, expires_at FROM leases ORDER BY partition_id");
  std::vector<Lease> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(Lease{st.int64(0), st.text(1), st.int64(2), from_unix_ms(st.int64(3))});
  }
  return out;
}

// Statements run for every unit are prepared once: parsing them each time cost more than the insert.
Status SqliteStore::run_cached(const char* sql) {
  auto st = writer_->prepare(sql);
  if (!st) return st.status();
  return (*st)->run();
}

Status SqliteStore::apply(const UnitOfWork& u) {
  auto& db = *writer_;
  for (const auto& x : u.inserts) {
    static const std::string sql = std::string("INSERT INTO surplus (") + kSurplusColumns +
                                   ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    ASSIGN_STMT(st, db, sql.c_str());
    bind_surplus(st, x, 1);
    RETURN_IF_ERROR(st.run());
  }
  for (const auto& up : u.updates) {
    static const std::string sql =
        std::string("UPDATE surplus SET (") + kSurplusColumns +
        ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?24 AND version = ?25";
    ASSIGN_STMT(st, db, sql.c_str());
    bind_surplus(st, up.after, 1);
    st.bind(24, up.after.id).bind(25, up.expected_version);
    RETURN_IF_ERROR(st.run());
    if (db.changes() != 1) {
      return {ErrorCode::kConflict, "surplus " + up.after.id + " changed concurrently (version is no longer " +
                                        std::to_string(up.expected_version) + ")"};
    }
  }
  for (const auto& e : u.events) {
    ASSIGN_STMT(st, db,
                "INSERT INTO outbox (id, type, surplus_id, occurred_at, traceparent, data, recipient, region) "
                "VALUES (?,?,?,?,?,?,?,?)");
    st.bind(1, e.id).bind(2, e.type).bind(3, e.surplus_id).bind(4, to_unix_ms(e.occurred_at));
    st.bind(5, e.traceparent).bind(6, e.data_json);
    st.bind(7, e.recipient.empty() ? std::optional<std::string>() : std::optional<std::string>(e.recipient));
    st.bind(8, e.region.empty() ? std::optional<std::string>() : std::optional<std::string>(e.region));
    RETURN_IF_ERROR(st.run());
  }
  if (const auto& r = u.idempotency) {
    ASSIGN_STMT(st, db,
                "INSERT INTO idempotency (provider_id, key, body_hash, surplus_id, created_at) VALUES (?,?,?,?,?)");
    st.bind(1, r->provider_id).bind(2, r->key).bind(3, r->body_hash).bind(4, r->surplus_id);
    st.bind(5, to_unix_ms(r->created_at));
    RETURN_IF_ERROR(st.run());
  }
  if (const auto& p = u.provider) {
    ASSIGN_STMT(st, db, "INSERT INTO providers (id, name, lat, lon, created_at, token_hash) VALUES (?,?,?,?,?,?)");
    st.bind(1, p->first.id).bind(2, p->first.name).bind(3, p->first.lat).bind(4, p->first.lon);
    st.bind(5, to_unix_ms(p->first.created_at)).bind(6, p->second);
    RETURN_IF_ERROR(st.run());
  }
  if (const auto& t = u.token) {
    if (t->party.role == Role::kProvider) {
      ASSIGN_STMT(st, db, "UPDATE providers SET token_hash = ? WHERE id = ?");
      st.bind(1, t->token_hash).bind(2, t->party.id);
      RETURN_IF_ERROR(st.run());
    } else {
      ASSIGN_STMT(st, db, "UPDATE ngos SET token_hash = ? WHERE id = ?");
      st.bind(1, t->token_hash).bind(2, t->party.id);
      RETURN_IF_ERROR(st.run());
    }
  }
  if (const auto& n = u.ngo) {
    ASSIGN_STMT(st, db,
                "INSERT INTO ngos (id, name, lat, lon, kind, categories, capacity_kg, webhook_url, webhook_secret, "
                "created_at, token_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
    st.bind(1, n->ngo.id).bind(2, n->ngo.name).bind(3, n->ngo.lat).bind(4, n->ngo.lon);
    st.bind(5, std::string(n->ngo.kind == NgoKind::kFoodBank ? "food_bank" : "ngo"));
    st.bind(6, join_list(n->ngo.categories)).bind(7, n->ngo.capacity_kg).bind(8, n->ngo.webhook_url);
    st.bind(9, n->webhook_secret).bind(10, to_unix_ms(n->ngo.created_at)).bind(11, n->token_hash);
    RETURN_IF_ERROR(st.run());
  }
  for (const auto& [key, value] : u.meta) {
    ASSIGN_STMT(st, db,
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    st.bind(1, key).bind(2, value);
    RETURN_IF_ERROR(st.run());
  }
  if (const auto& c = u.cursor) {
    // A cursor only moves forward, whatever order saves arrive in.
    ASSIGN_STMT(st, db,
                "INSERT INTO cursors (consumer, seq) VALUES (?, ?) "
                "ON CONFLICT(consumer) DO UPDATE SET seq = max(seq, excluded.seq)");
    st.bind(1, c->first).bind(2, c->second);
    RETURN_IF_ERROR(st.run());
  }
  if (const auto& p = u.prune) {
    ASSIGN_STMT(idem, db,
                "DELETE FROM idempotency WHERE rowid IN "
                "(SELECT rowid FROM idempotency WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)");
    idem.bind(1, to_unix_ms(p->idempotency_before)).bind(2, static_cast<int64_t>(p->max_rows));
    RETURN_IF_ERROR(idem.run());
    // The oldest rows first (seq order is commit order, close to time order), and only those every
    // consumer has passed: those named (a missing cursor as 0), or every cursor; with none, none.
    int64_t past = 0;
    if (p->consumers.empty()) {
      ASSIGN_STMT(all, db, "SELECT coalesce(min(seq), 0) FROM cursors");
      auto row = all.step();
      if (!row) return row.status();
      past = all.int64(0);
    } else {
      past = INT64_MAX;
      for (const auto& name : p->consumers) {
        ASSIGN_STMT(one, db, "SELECT seq FROM cursors WHERE consumer = ?");
        one.bind(1, name);
        auto row = one.step();
        if (!row) return row.status();
        past = std::min(past, *row ? one.int64(0) : int64_t{0});
      }
    }
    ASSIGN_STMT(out, db,
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox WHERE seq <= ?3 ORDER BY seq LIMIT ?2) "
                "AND occurred_at < ?1");
    out.bind(1, to_unix_ms(p->outbox_before)).bind(2, static_cast<int64_t>(p->max_rows)).bind(3, past);
    RETURN_IF_ERROR(out.run());
  }
  return Status::ok();
}

std::unique_ptr<SqliteDb> SqliteStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      auto db = std::move(readers_.back());
      readers_.pop_back();
      return db;
    }
  }
  auto db = SqliteDb::open(options_.path, true);
  return db ? std::move(*db) : nullptr;
}

void SqliteStore::release_reader(std::unique_ptr<SqliteDb> db) {
  std::lock_guard lock(readers_mu_);
  if (static_cast<int>(readers_.size()) < options_.read_connections) readers_.push_back(std::move(db));
}

}  // namespace pahlawan

#include "adapters/sqlite/sqlite_store.h"
#include "common/thread_name.h"

#include <chrono>

#include "adapters/sqlite/sqlite_db.h"
#include "adapters/sqlite/sqlite_schema.h"
#include "common/fault.h"

namespace pahlawan {
namespace {

constexpr const char* kSurplusColumns =
    "id, provider_id, title, category, quantity_kg, lat, lon, cell, status, version, created_at, expires_at, "
    "offer_ngo_id, offer_deadline, offer_attempt, dead_lettered, claimed_by, claimed_at, picked_up_at, "
    "offered_to, dlq_reason, dlq_at";

std::optional<int64_t> opt_ms(const std::optional<TimePoint>& t) {
  return t ? std::optional<int64_t>(to_unix_ms(*t)) : std::nullopt;
}

std::optional<TimePoint> opt_time(const SqliteStmt& s, int col) {
  return s.is_null(col) ? std::nullopt : std::optional<TimePoint>(from_unix_ms(s.int64(col)));
}

// Comma-joined lists of words (categories, ids): neither ever contains a comma.
std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& c : items) out += (out.empty() ? "" : ",") + c;
  return out;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

Surplus read_surplus(const SqliteStmt& s) {
  Surplus x;
  x.id = s.text(0);
  x.provider_id = s.text(1);
  x.title = s.text(2);
  x.category = s.text(3);
  x.quantity_kg = s.real(4);
  x.lat = s.real(5);
  x.lon = s.real(6);
  x.cell = static_cast<uint64_t>(s.int64(7));
  x.status = parse_status(s.text(8)).value_or(SurplusStatus::kAvailable);
  x.version = s.int64(9);
  x.created_at = from_unix_ms(s.int64(10));
  x.expires_at = from_unix_ms(s.int64(11));
  if (!s.is_null(12)) {
    x.offer = Offer{s.text(12), from_unix_ms(s.int64(13)), static_cast<int>(s.int64(14))};
  }
  x.dead_lettered = s.int64(15) != 0;
  x.claimed_by = s.opt_text(16);
  x.claimed_at = opt_time(s, 17);
  x.picked_up_at = opt_time(s, 18);
  x.offered_to = split_list(s.text(19));
  x.dlq_reason = s.opt_text(20);
  x.dlq_at = opt_time(s, 21);
  return x;
}

Result<std::vector<Surplus>> read_all_surplus(SqliteStmt& st) {
  std::vector<Surplus> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(read_surplus(st));
  }
  return out;
}

// Binds the 22 surplus columns in kSurplusColumns order, starting at parameter `first`.
void bind_surplus(SqliteStmt& st, const Surplus& x, int first) {
  const int i = first;
  st.bind(i, x.id);
  st.bind(i + 1, x.provider_id);
  st.bind(i + 2, x.title);
  st.bind(i + 3, x.category);
  st.bind(i + 4, x.quantity_kg);
  st.bind(i + 5, x.lat);
  st.bind(i + 6, x.lon);
  st.bind(i + 7, static_cast<int64_t>(x.cell));
  st.bind(i + 8, std::string(status_name(x.status)));
  st.bind(i + 9, x.version);
  st.bind(i + 10, to_unix_ms(x.created_at));
  st.bind(i + 11, to_unix_ms(x.expires_at));
  st.bind(i + 12, x.offer ? std::optional<std::string>(x.offer->ngo_id) : std::nullopt);
  st.bind(i + 13, x.offer ? std::optional<int64_t>(to_unix_ms(x.offer->deadline)) : std::nullopt);
  st.bind(i + 14, x.offer ? std::optional<int64_t>(x.offer->attempt) : std::nullopt);
  st.bind(i + 15, static_cast<int64_t>(x.dead_lettered ? 1 : 0));
  st.bind(i + 16, x.claimed_by);
  st.bind(i + 17, opt_ms(x.claimed_at));
  st.bind(i + 18, opt_ms(x.picked_up_at));
  st.bind(i + 19, join_list(x.offered_to));
  st.bind(i + 20, x.dlq_reason);
  st.bind(i + 21, opt_ms(x.dlq_at));
}

// One outbox row, selected as: seq, id, type, surplus_id, occurred_at, traceparent, data, recipient.
Event outbox_event(const SqliteStmt& st) {
  Event e;
  e.seq = st.int64(0);
  e.id = st.text(1);
  e.type = st.text(2);
  e.surplus_id = st.text(3);
  e.occurred_at = from_unix_ms(st.int64(4));
  e.traceparent = st.text(5);
  e.data_json = st.text(6);
  e.recipient = st.text(7);
  return e;
}

Result<bool> has_column(SqliteDb& db, const std::string& table, const std::string& column) {
  auto st = db.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
  if (!st) return st.status();
  (*st)->bind(1, table).bind(2, column);
  auto row = (*st)->step();
  if (!row) return row.status();
  return *row;
}

#define RETURN_IF_ERROR(expr)   \
  do {                          \
    Status _s = (expr);         \
    if (!_s.is_ok()) return _s; \
  } while (0)

#define ASSIGN_STMT(var, db, sql)        \
  auto var##_r = (db).prepare(sql);      \
  if (!var##_r) return var##_r.status(); \
  auto& var = **var##_r

}  // namespace

// Borrows a read connection for the length of one query.
class SqliteStore::ReaderLease {
 public:
  explicit ReaderLease(SqliteStore& store) : store_(store), db_(store.acquire_reader()) {}
  ~ReaderLease() {
    if (db_) store_.release_reader(std::move(db_));
  }
  SqliteDb* get() { return db_.get(); }

 private:
  SqliteStore& store_;
  std::unique_ptr<SqliteDb> db_;
};

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
           Column{"outbox", "recipient", "ALTER TABLE outbox ADD COLUMN recipient TEXT",
                  "UPDATE outbox SET recipient = json_extract(data, '$.offer.ngo_id') WHERE type = 'surplus.offered'"},
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
    : options_(std::move(options)), writer_(std::move(writer)) {
  if (metrics) {
    batch_size_ = &metrics->histogram("store_commit_batch_units", "Units of work committed per transaction",
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
    commit_seconds_ = &metrics->histogram("store_commit_seconds", "Time to apply and fsync one group commit",
                                          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1});
    rejected_ = &metrics->counter("store_commit_rejected_total", "Units refused because the queue was full");
  }
  // Replaces SQLite's automatic checkpoint, which would run inside the committer's COMMIT.
  sqlite3_wal_hook(writer_->raw(), &SqliteStore::on_wal_commit, this);
  committer_ = std::thread([this] {
    name_this_thread("pp-commit");
    run_committer();
  });
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
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  checkpoint_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteStore::on_events_committed(UniqueFunction<void()> listener) {
  listener_ = std::move(listener);
}

void SqliteStore::commit(UnitOfWork unit, CommitDone done) {
  {
    std::unique_lock lock(mu_);
    if (stopping_) {
      lock.unlock();
      done(Status(ErrorCode::kUnavailable, "store is shutting down"));
      return;
    }
    if (queue_.size() >= options_.max_queue) {
      lock.unlock();
      if (rejected_) rejected_->inc();
      done(Status(ErrorCode::kUnavailable, "write queue is full"));
      return;
    }
    queue_.push_back(Job{std::move(unit), std::move(done)});
  }
  cv_.notify_one();
}

void SqliteStore::run_committer() {
  std::vector<Job> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is committed
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

void SqliteStore::commit_batch(std::vector<Job>& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Status> results(batch.size());
  bool any_writes = false, any_events = false;
  for (const auto& job : batch) {
    any_writes |= !job.unit.empty();
    any_events |= !job.unit.events.empty();
  }
  // A planted bug, for showing that the crash tests and the history checker catch it: every caller is
  // told "committed" before the transaction is even written (replying before the fsync).
  const bool replied_early = PP_FAULT("store.reply_before_commit");
  if (replied_early) {
    for (auto& job : batch) job.done(Status::ok());
  }
  if (any_writes) {
    // Units almost never fail, so the batch is first applied without a savepoint per unit (three
    // statements fewer each). Only if one fails is the transaction redone with savepoints, so that
    // the failing unit alone is rolled back.
    Status tx = apply_batch(batch, results, false);
    if (tx.code() == ErrorCode::kConflict) tx = apply_batch(batch, results, true);
    if (!tx) {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!batch[i].unit.empty()) results[i] = tx;
      }
      any_events = false;
    }
  }
  if (commit_seconds_ && any_writes) {
    commit_seconds_->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  // Crash here: the batch is durable (fsync'd) but no caller heard of it — the answer a client may or
  // may not have got.
  (void)PP_FAULT("store.after_commit_before_reply");
  if (!replied_early) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
  }
  if (any_events && listener_) listener_();
}

// One transaction over the batch. Without savepoints, the first failing unit aborts it all and its
// Status is returned (kConflict: worth retrying with savepoints). With savepoints, each unit's result
// lands in `results` and only BEGIN/COMMIT failures are returned.
Status SqliteStore::apply_batch(std::vector<Job>& batch, std::vector<Status>& results, bool savepoints) {
  if (Status s = run_cached("BEGIN IMMEDIATE"); !s) return s;
  size_t applied = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
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
                                   ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    ASSIGN_STMT(st, db, sql.c_str());
    bind_surplus(st, x, 1);
    RETURN_IF_ERROR(st.run());
  }
  for (const auto& up : u.updates) {
    static const std::string sql = std::string("UPDATE surplus SET (") + kSurplusColumns +
                                   ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?23 AND version = ?24";
    ASSIGN_STMT(st, db, sql.c_str());
    bind_surplus(st, up.after, 1);
    st.bind(23, up.after.id).bind(24, up.expected_version);
    RETURN_IF_ERROR(st.run());
    if (db.changes() != 1) {
      return {ErrorCode::kConflict, "surplus " + up.after.id + " changed concurrently (version is no longer " +
                                        std::to_string(up.expected_version) + ")"};
    }
  }
  for (const auto& e : u.events) {
    ASSIGN_STMT(st, db,
                "INSERT INTO outbox (id, type, surplus_id, occurred_at, traceparent, data, recipient) "
                "VALUES (?,?,?,?,?,?,?)");
    st.bind(1, e.id).bind(2, e.type).bind(3, e.surplus_id).bind(4, to_unix_ms(e.occurred_at));
    st.bind(5, e.traceparent).bind(6, e.data_json);
    st.bind(7, e.recipient.empty() ? std::optional<std::string>() : std::optional<std::string>(e.recipient));
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
    // consumer has passed; with no cursor at all nothing is past.
    ASSIGN_STMT(out, db,
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox "
                "WHERE seq <= (SELECT coalesce(min(seq), 0) FROM cursors) ORDER BY seq LIMIT ?2) "
                "AND occurred_at < ?1");
    out.bind(1, to_unix_ms(p->outbox_before)).bind(2, static_cast<int64_t>(p->max_rows));
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

#define READER(var)                                                                       \
  ReaderLease var##_lease(*this);                                                         \
  if (!var##_lease.get()) return Status(ErrorCode::kUnavailable, "cannot open database"); \
  auto& var = *var##_lease.get()

Result<std::optional<Surplus>> SqliteStore::find_surplus(const std::string& id) {
  READER(db);
  static const std::string sql = std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE id = ?";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Surplus>();
  return std::optional<Surplus>(read_surplus(st));
}

Result<std::vector<Surplus>> SqliteStore::load_open_surplus() {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE status IN ('available', 'claimed')";
  ASSIGN_STMT(st, db, sql.c_str());
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::find_available_in_cells(const std::vector<CellRange>& ranges,
                                                                  TimePoint created_before, TimePoint now,
                                                                  const std::optional<std::string>& category,
                                                                  int limit) {
  READER(db);
  // Cell ids are stored as signed 64-bit; a range lies within one cube face, so it keeps its order.
  static const std::string sql = std::string("SELECT ") + kSurplusColumns +
                                 " FROM surplus WHERE status = 'available' AND cell BETWEEN ?1 AND ?2 "
                                 "AND created_at < ?3 AND expires_at > ?4 AND (?5 IS NULL OR category = ?5) LIMIT ?6";
  std::vector<Surplus> out;
  for (const auto& r : ranges) {
    if (static_cast<int>(out.size()) >= limit) break;
    ASSIGN_STMT(st, db, sql.c_str());
    st.bind(1, static_cast<int64_t>(r.first)).bind(2, static_cast<int64_t>(r.last));
    st.bind(3, to_unix_ms(created_before)).bind(4, to_unix_ms(now)).bind(5, category);
    st.bind(6, static_cast<int64_t>(limit - static_cast<int>(out.size())));
    auto part = read_all_surplus(st);
    if (!part) return part.status();
    for (auto& s : *part) out.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<IdempotencyRecord>> SqliteStore::find_idempotency(const std::string& provider_id,
                                                                       const std::string& key) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT body_hash, surplus_id, created_at FROM idempotency WHERE provider_id = ? AND key = ?");
  st.bind(1, provider_id).bind(2, key);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<IdempotencyRecord>();
  return std::optional<IdempotencyRecord>(
      IdempotencyRecord{provider_id, key, st.text(0), st.text(1), from_unix_ms(st.int64(2))});
}

Result<std::vector<Surplus>> SqliteStore::find_offers_for(const std::string& ngo_id) {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns +
      " FROM surplus WHERE offer_ngo_id = ? AND status = 'available' ORDER BY offer_deadline";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, ngo_id);
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::find_dead_letters(const std::optional<DlqPosition>& after, int limit) {
  READER(db);
  static const std::string sql = std::string("SELECT ") + kSurplusColumns +
                                 " FROM surplus WHERE dead_lettered = 1 AND status = 'available' "
                                 "AND (?1 IS NULL OR dlq_at > ?1 OR (dlq_at = ?1 AND id > ?2)) "
                                 "ORDER BY dlq_at, id LIMIT ?3";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, after ? std::optional<int64_t>(to_unix_ms(after->at)) : std::nullopt);
  st.bind(2, after ? after->id : std::string());
  st.bind(3, static_cast<int64_t>(limit));
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::find_claimed_since(TimePoint since) {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE claimed_at >= ? AND claimed_by IS NOT NULL";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, to_unix_ms(since));
  return read_all_surplus(st);
}

Result<std::vector<Ngo>> SqliteStore::load_ngos() {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT id FROM ngos");
  std::vector<std::string> ids;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    ids.push_back(st.text(0));
  }
  std::vector<Ngo> out;
  for (const auto& id : ids) {
    auto n = find_ngo(id);
    if (!n) return n.status();
    if (*n) out.push_back(std::move(**n));
  }
  return out;
}

Result<std::vector<Credential>> SqliteStore::load_credentials() {
  READER(db);
  std::vector<Credential> out;
  for (auto [sql, role] : {std::pair{"SELECT id, token_hash FROM providers", Role::kProvider},
                           std::pair{"SELECT id, token_hash FROM ngos", Role::kNgo}}) {
    ASSIGN_STMT(st, db, sql);
    for (;;) {
      auto row = st.step();
      if (!row) return row.status();
      if (!*row) break;
      out.push_back(Credential{Principal{role, st.text(0)}, st.text(1)});
    }
  }
  return out;
}

Result<std::optional<Provider>> SqliteStore::find_provider(const std::string& id) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT id, name, lat, lon, created_at FROM providers WHERE id = ?");
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Provider>();
  return std::optional<Provider>(Provider{st.text(0), st.text(1), st.real(2), st.real(3), from_unix_ms(st.int64(4))});
}

Result<std::optional<Ngo>> SqliteStore::find_ngo(const std::string& id) {
  READER(db);
  ASSIGN_STMT(
      st, db,
      "SELECT id, name, lat, lon, kind, categories, capacity_kg, webhook_url, created_at, webhook_secret FROM ngos "
      "WHERE id = ?");
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Ngo>();
  Ngo n;
  n.id = st.text(0);
  n.name = st.text(1);
  n.lat = st.real(2);
  n.lon = st.real(3);
  n.kind = st.text(4) == "food_bank" ? NgoKind::kFoodBank : NgoKind::kNgo;
  n.categories = split_list(st.text(5));
  if (!st.is_null(6)) n.capacity_kg = st.real(6);
  n.webhook_url = st.opt_text(7);
  n.webhook_secret = st.opt_text(9);
  n.created_at = from_unix_ms(st.int64(8));
  return std::optional<Ngo>(std::move(n));
}

Result<std::optional<std::string>> SqliteStore::get_meta(const std::string& key) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<std::vector<Event>> SqliteStore::read_outbox(int64_t after_seq, int limit) {
  READER(db);
  ASSIGN_STMT(st, db,
              "SELECT seq, id, type, surplus_id, occurred_at, traceparent, data, recipient FROM outbox "
              "WHERE seq > ? ORDER BY seq LIMIT ?");
  st.bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
  std::vector<Event> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(outbox_event(st));
  }
  return out;
}

Result<std::vector<Event>> SqliteStore::read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                                        int limit) {
  READER(db);
  std::optional<int64_t> after;
  {
    ASSIGN_STMT(st, db, "SELECT seq FROM outbox WHERE id = ?");
    st.bind(1, after_event_id);
    auto row = st.step();
    if (!row) return row.status();
    if (*row) after = st.int64(0);
  }
  std::vector<Event> out;
  auto collect = [&](SqliteStmt& st) -> Status {
    for (;;) {
      auto row = st.step();
      if (!row) return row.status();
      if (!*row) return Status::ok();
      out.push_back(outbox_event(st));
    }
  };
  if (after) {  // a known event: the NGO's offers after it, by index
    ASSIGN_STMT(st, db,
                "SELECT seq, id, type, surplus_id, occurred_at, traceparent, data, recipient FROM outbox "
                "WHERE recipient = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    st.bind(1, ngo_id).bind(2, *after).bind(3, static_cast<int64_t>(limit));
    RETURN_IF_ERROR(collect(st));
    return out;
  }
  // Unknown (or pruned) id: not history, only what the NGO can still act on — the latest offer of
  // each item whose pending offer is for it.
  ASSIGN_STMT(st, db,
              "SELECT o.seq, o.id, o.type, o.surplus_id, o.occurred_at, o.traceparent, o.data, o.recipient "
              "FROM surplus s JOIN outbox o ON o.seq = (SELECT max(seq) FROM outbox "
              "  WHERE recipient = ?1 AND surplus_id = s.id) "
              "WHERE s.offer_ngo_id = ?1 AND s.status = 'available' ORDER BY o.seq LIMIT ?2");
  st.bind(1, ngo_id).bind(2, static_cast<int64_t>(limit));
  RETURN_IF_ERROR(collect(st));
  return out;
}

Result<int64_t> SqliteStore::last_outbox_seq() {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT coalesce(max(seq), 0) FROM outbox");
  auto row = st.step();
  if (!row) return row.status();
  return st.int64(0);
}

Result<int64_t> SqliteStore::load_cursor(const std::string& consumer) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT seq FROM cursors WHERE consumer = ?");
  st.bind(1, consumer);
  auto row = st.step();
  if (!row) return row.status();
  return *row ? st.int64(0) : int64_t{0};
}

}  // namespace pahlawan

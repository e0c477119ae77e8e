#include "adapters/postgres/pg_store.h"
#include "common/log.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>

#include "adapters/postgres/pg_archive.h"
#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_rows.h"
#include "adapters/postgres/pg_statements.h"
#include "common/fault.h"
#include "common/thread_name.h"
#include "common/word_list.h"

namespace pahlawan {

using namespace pg_rows;

namespace {

// pg_partman's maintenance (partitions for the coming days; retention detaches old ones), then the
// archiving of what retention detached. A failure is retried at the next run, an hour later.
void maintain(PgConn& conn, const std::string& archive_dir) {
  (void)conn.exec("SELECT partman.run_maintenance(p_analyze := false)");
  if (archive_dir.empty()) return;
  auto archived = pg_archive_detached(conn, archive_dir);
  if (!archived)
    log_line(LogLevel::kError, "archiving old partitions failed", {{"error", archived.status().message()}});
  for (const auto& a : archived ? *archived : std::vector<ArchivedPartition>{}) {
    log_line(LogLevel::kInfo, "archived a partition", {{"table", a.table}, {"rows", a.rows}, {"dir", archive_dir}});
  }
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(PostgresStoreOptions options, MetricsRegistry* metrics) {
  auto admin = PgConn::connect(options.url);
  if (!admin) return admin.status();
  if (options.migrate) {
    auto applied = pg_migrate(**admin);
    if (!applied) return applied.status();
  }
  auto version = pg_schema_version(**admin);
  if (!version) return version.status();
  const int want = pg_migrations().back().version;
  if (*version < want) {
    return Status(ErrorCode::kUnavailable, "the database schema is at version " + std::to_string(*version) +
                                               ", this binary needs " + std::to_string(want) +
                                               ": run `pahlawan migrate` (or start with --migrate)");
  }
  // Partitions for the coming days; the listener repeats this hourly (see run_listener).
  maintain(**admin, options.archive_dir);
  std::vector<std::unique_ptr<PgConn>> writers;
  for (int i = 0; i < std::max(1, options.lanes); ++i) {
    // Durable before the reply, whatever the server's default (and again after a reconnect).
    std::string setup = "SET synchronous_commit = on";
    if (options.stall_limit.count() > 0) {
      setup += "; SET idle_in_transaction_session_timeout = " + std::to_string(options.stall_limit.count());
    }
    // Owner ids are letters, digits and -_.@:#[] (config.cc, request_forwarder.cc): no quoting needed.
    if (!options.session_name.empty()) setup += "; SET application_name = '" + options.session_name + "'";
    auto writer = PgConn::connect(options.url, pg_statements::writes(), setup);
    if (!writer) return writer.status();
    writers.push_back(std::move(*writer));
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(options), std::move(writers), metrics));
}

PostgresStore::PostgresStore(PostgresStoreOptions options, std::vector<std::unique_ptr<PgConn>> writers,
                             MetricsRegistry* metrics)
    : options_(std::move(options)), wake_fd_(::eventfd(0, EFD_CLOEXEC)) {
  if (metrics) {
    batch_size_ = &metrics->histogram("store_commit_batch_units", "Units of work committed per transaction",
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096});
    commit_seconds_ = &metrics->histogram("store_commit_seconds", "Time to apply and commit one group commit",
                                          {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1});
    rejected_ = &metrics->counter("store_commit_rejected_total", "Units refused because the queue was full");
  }
  for (auto& writer : writers) {
    auto lane = std::make_unique<Lane>();
    lane->pid = PQbackendPID(writer->raw());
    lane->writer = std::move(writer);
    lane->queue = std::make_unique<GroupCommitQueue>(options_.max_queue, options_.max_batch);
    lanes_.push_back(std::move(lane));
  }
  for (auto& lane : lanes_) {
    Lane* l = lane.get();
    l->queue->start(
        "pp-pg-commit", [this, l](std::vector<CommitJob>& batch) { commit_batch(*l, batch); }, rejected_);
  }
  notifier_ = std::thread([this] {
    name_this_thread("pp-pg-listen");
    run_listener();
  });
}

PostgresStore::~PostgresStore() {
  flush_and_stop();
}

void PostgresStore::flush_and_stop() {
  for (auto& lane : lanes_) lane->queue->stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  const uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);  // ends the listener's wait on its socket
  if (notifier_.joinable()) notifier_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

void PostgresStore::on_events_committed(UniqueFunction<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

void PostgresStore::wake_listener() {
  std::lock_guard lock(listener_mu_);
  if (listener_) listener_();
}

// The lane of a unit's item: cell ids at one level share their low bits, so they are mixed first.
size_t PostgresStore::lane_of(const UnitOfWork& unit) const {
  uint64_t cell = 0;
  if (!unit.inserts.empty()) {
    cell = unit.inserts.front().cell;
  } else if (!unit.updates.empty()) {
    cell = unit.updates.front().after.cell;
  }
  return cell == 0 ? 0 : static_cast<size_t>((cell * 0x9E3779B97F4A7C15ull) >> 33) % lanes_.size();
}

bool PostgresStore::is_own_backend(int pid) const {
  for (const auto& lane : lanes_) {
    if (lane->pid.load() == pid) return true;
  }
  return false;
}

void PostgresStore::commit(UnitOfWork unit, CommitDone done) {
  if (!unit.empty() || lanes_.size() == 1) {
    lanes_[lane_of(unit)]->queue->submit(std::move(unit), std::move(done));
    return;
  }
  // A barrier: answered once it has passed every lane, with the first failure if any (a lane full
  // or stopping).
  struct Countdown {
    std::mutex mu;
    size_t left;
    Status result = Status::ok();
    CommitDone done;
  };
  auto countdown = std::make_shared<Countdown>();
  countdown->left = lanes_.size();
  countdown->done = std::move(done);
  for (auto& lane : lanes_) {
    lane->queue->submit(UnitOfWork{}, [countdown](Status s) {
      std::unique_lock lock(countdown->mu);
      if (!s && countdown->result) countdown->result = s;
      if (--countdown->left > 0) return;
      lock.unlock();
      countdown->done(std::move(countdown->result));
    });
  }
}

// LISTEN on a connection of its own: a commit in another process wakes this process's relay. This
// process's own commits are not woken for again (the committer did that already, without a round
// trip): their notifications carry the writer's backend pid. A notification sent while this
// connection was down is lost, so after each reconnect the relay is woken once to look for itself.
// Once an hour the connection also runs pg_partman's maintenance (new partitions, retention).
void PostgresStore::run_listener() {
  std::unique_ptr<PgConn> conn;
  bool connected_before = false;
  auto last_maintenance = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) return;
    }
    bool wake = false;
    if (!conn || !conn->healthy()) {
      conn.reset();
      auto c = PgConn::connect(options_.url);
      if (c && (*c)->exec("LISTEN pp_outbox")) {
        conn = std::move(*c);
        wake = connected_before;  // it may have missed notifications while it was away
        connected_before = true;
      }
    }
    if (conn) {
      pollfd pfd[2] = {{conn->socket(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      (void)::poll(pfd, 2, static_cast<int>(options_.poll_interval.count()));
      (void)PQconsumeInput(conn->raw());
      while (PGnotify* n = PQnotifies(conn->raw())) {
        wake |= !is_own_backend(n->be_pid);
        PQfreemem(n);
      }
      if (std::chrono::steady_clock::now() - last_maintenance > std::chrono::hours(1)) {
        maintain(*conn, options_.archive_dir);
        last_maintenance = std::chrono::steady_clock::now();
      }
    } else {
      std::unique_lock lock(mu_);
      stop_cv_.wait_for(lock, options_.poll_interval, [&] { return stopping_; });
    }
    if (wake) wake_listener();
  }
}

namespace {

// The items a unit inserts and updates, added to those of the units before it in the batch.
void collect_items(const UnitOfWork& u, std::vector<const Surplus*>& inserts,
                   std::vector<const SurplusUpdate*>& updates) {
  for (const auto& x : u.inserts) inserts.push_back(&x);
  for (const auto& up : u.updates) updates.push_back(&up);
}

// The statements of a unit other than its items' (pg_statements::surplus_commands writes those for
// many units at once) and its events (which end the transaction: pg_statements::event_commands).
void other_commands(const UnitOfWork& u, std::vector<PgCommand>& out) {
  if (const auto& r = u.idempotency) {
    PgParams p;
    p.add(r->provider_id).add(r->key).add(r->body_hash).add(r->surplus_id).add(to_unix_ms(r->created_at));
    out.push_back({"insert_idempotency", std::move(p)});
  }
  if (const auto& pr = u.provider) {
    PgParams p;
    p.add(pr->first.id).add(pr->first.name).add(pr->first.lat).add(pr->first.lon).add(to_unix_ms(pr->first.created_at));
    p.add(pr->second);
    out.push_back({"insert_provider", std::move(p)});
  }
  if (const auto& t = u.token) {
    PgParams p;
    p.add(t->party.id).add(t->token_hash);
    out.push_back({t->party.role == Role::kProvider ? "provider_token" : "ngo_token", std::move(p)});
  }
  if (const auto& n = u.ngo) {
    PgParams p;
    p.add(n->ngo.id).add(n->ngo.name).add(n->ngo.lat).add(n->ngo.lon);
    p.add(std::string(n->ngo.kind == NgoKind::kFoodBank ? "food_bank" : "ngo"));
    p.add(join_list(n->ngo.categories)).add(n->ngo.capacity_kg).add(n->ngo.webhook_url).add(n->webhook_secret);
    p.add(to_unix_ms(n->ngo.created_at)).add(n->token_hash);
    out.push_back({"insert_ngo", std::move(p)});
  }
  for (const auto& [key, value] : u.meta) {
    PgParams p;
    p.add(key).add(value);
    out.push_back({"upsert_meta", std::move(p)});
  }
  if (const auto& c = u.cursor) {
    PgParams p;
    p.add(c->first).add(c->second);
    out.push_back({"upsert_cursor", std::move(p)});
  }
  if (const auto& pr = u.prune) {
    PgParams idem;
    idem.add(to_unix_ms(pr->idempotency_before)).add(static_cast<int64_t>(pr->max_rows));
    out.push_back({"prune_idempotency", std::move(idem)});
    PgParams outbox;
    outbox.add(to_unix_ms(pr->outbox_before)).add(static_cast<int64_t>(pr->max_rows));
    if (pr->consumers.empty()) {
      outbox.add_null();
    } else {
      std::vector<const std::string*> names;
      for (const auto& c : pr->consumers) names.push_back(&c);
      outbox.add_text_array(names);
    }
    out.push_back({"prune_outbox", std::move(outbox)});
  }
}

// The current epochs of these partitions' leases, their rows locked (FOR KEY SHARE) until the batch's
// transaction ends.
Result<std::map<int64_t, int64_t>> lease_epochs(PgConn& writer, const std::set<int64_t>& partitions) {
  PgParams p;
  p.add_int_array(partitions);
  auto r = writer.run("lease_epochs", p);
  if (!r) return r.status();
  std::map<int64_t, int64_t> out;
  for (int i = 0; i < r->rows(); ++i) out[r->int64(i, 0)] = r->int64(i, 1);
  return out;
}

// What the NGOs hold now, their rows locked (FOR UPDATE) until the batch's transaction ends.
Result<std::map<std::string, NgoHolding>> ngo_holdings(PgConn& writer, const std::map<std::string, TimePoint>& since) {
  std::vector<const std::string*> ids;
  TimePoint earliest = since.begin()->second;
  for (const auto& [id, t] : since) {
    ids.push_back(&id);
    earliest = std::min(earliest, t);
  }
  std::map<std::string, NgoHolding> out;
  PgParams lock;
  lock.add_text_array(ids);
  if (auto r = writer.run("ngo_lock", lock); !r) return r.status();
  PgParams offers;
  offers.add_text_array(ids);
  auto o = writer.run("ngo_offers", offers);
  if (!o) return o.status();
  for (int i = 0; i < o->rows(); ++i) {
    auto& h = out[o->text(i, 0)];
    h.pending = static_cast<int>(o->int64(i, 1));
    h.offered_kg = o->real(i, 2);
  }
  PgParams claims;
  claims.add_text_array(ids).add(to_unix_ms(earliest));
  auto c = writer.run("ngo_claims", claims);
  if (!c) return c.status();
  for (int i = 0; i < c->rows(); ++i) out[c->text(i, 0)].claimed_kg = c->real(i, 1);
  return out;
}

}  // namespace

void PostgresStore::commit_batch(Lane& lane, std::vector<CommitJob>& batch) {
  answer_group_commit(
      batch,
      [this, &lane](std::vector<CommitJob>& b, std::vector<Status>& results) {
        PgConn& writer = *lane.writer;
        // A connection the server dropped while idle is replaced before the batch, not failed by it.
        Status tx = writer.check_alive() ? Status::ok() : writer.reconnect();
        lane.pid = PQbackendPID(writer.raw());
        if (tx) tx = apply_batch(writer, b, results, false);
        if (tx.code() == ErrorCode::kConflict) tx = apply_batch(writer, b, results, true);
        return tx;
      },
      commit_seconds_, [this] { wake_listener(); });
}

// One transaction over the batch. Without savepoints the whole batch is one pipeline and the first
// failing statement aborts it all (kConflict: worth redoing with savepoints). With savepoints each
// unit is its own pipeline inside SAVEPOINT … RELEASE, so a failing unit is rolled back alone and
// its result lands in `results`; only failures of the transaction itself are returned.
Status PostgresStore::apply_batch(PgConn& writer, std::vector<CommitJob>& batch, std::vector<Status>& results,
                                  bool savepoints) {
  if (Status s = writer.exec("BEGIN"); !s) return s;
  auto fenced = fenced_out(batch, results,
                           [&writer](const std::set<int64_t>& partitions) { return lease_epochs(writer, partitions); });
  if (!fenced) {
    (void)writer.exec("ROLLBACK");
    return fenced.status();
  }
  std::vector<bool>& skip = *fenced;
  if (Status s = refuse_over_budget(batch, results, skip,
                                    [&writer](const auto& since) { return ngo_holdings(writer, since); });
      !s) {
    (void)writer.exec("ROLLBACK");
    return s;
  }
  std::vector<PgCommand> commands, others;
  std::vector<const Event*> events;
  std::vector<const Surplus*> inserts;
  std::vector<const SurplusUpdate*> updates;
  size_t applied = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (skip[i]) continue;  // lease lost, or no room at its NGO: its result says so, nothing is written
    results[i] = Status::ok();
    const UnitOfWork& unit = batch[i].unit;
    if (unit.empty()) continue;  // a barrier: nothing to write, answered after the commit
    if (savepoints) {
      // Here each unit numbers its own events, so that a duplicate event id fails its unit alone;
      // the counter's lock is then taken earlier, on a path taken only after a conflict.
      commands.clear();
      inserts.clear();
      updates.clear();
      collect_items(unit, inserts, updates);
      pg_statements::surplus_commands(inserts, updates, commands);
      other_commands(unit, commands);
      std::vector<const Event*> own;
      for (const auto& e : unit.events) own.push_back(&e);
      pg_statements::event_commands(own, commands);
      Status s = writer.exec("SAVEPOINT unit");
      if (s) s = writer.pipeline(commands);
      if (s.code() == ErrorCode::kUnavailable) {
        (void)writer.exec("ROLLBACK");
        return s;
      }
      if (!s) (void)writer.exec("ROLLBACK TO SAVEPOINT unit");
      (void)writer.exec("RELEASE SAVEPOINT unit");
      results[i] = s;
      applied += s.is_ok();
      continue;
    }
    // All the batch's items first, in few statements; the items' changes depend on nothing else a
    // unit writes, and a failure anywhere sends the batch to the savepoint path, unit by unit.
    collect_items(unit, inserts, updates);
    other_commands(unit, others);
    for (const auto& e : unit.events) events.push_back(&e);
    ++applied;
  }
  commands.clear();
  if (!savepoints) {
    pg_statements::surplus_commands(inserts, updates, commands);
    for (auto& c : others) commands.push_back(std::move(c));
  }
  pg_statements::event_commands(events, commands);
  if (Status s = writer.pipeline(commands); !s) {
    (void)writer.exec("ROLLBACK");
    return s;  // a conflict is worth the redo with savepoints
  }
  // Crash here: nothing of the batch is durable and nothing was acknowledged. Error: the batch fails.
  if (PP_FAULT("store.before_commit")) {
    (void)writer.exec("ROLLBACK");
    return Status(ErrorCode::kUnavailable, "the store could not commit");
  }
  if (Status committed = writer.exec("COMMIT"); !committed) {
    (void)writer.exec("ROLLBACK");
    return Status(ErrorCode::kUnavailable, committed.message());
  }
  if (batch_size_) batch_size_->observe(static_cast<double>(applied));
  return Status::ok();
}

std::unique_ptr<PgConn> PostgresStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mu_);
    while (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      if (conn->check_alive()) return conn;
    }
  }
  auto conn = PgConn::connect(
      options_.url, pg_statements::reads(),
      options_.stall_limit.count() > 0 ? "SET lock_timeout = " + std::to_string(options_.stall_limit.count()) : "");
  return conn ? std::move(*conn) : nullptr;
}

void PostgresStore::release_reader(std::unique_ptr<PgConn> conn) {
  std::lock_guard lock(readers_mu_);
  if (conn->healthy() && static_cast<int>(readers_.size()) < options_.read_connections) {
    readers_.push_back(std::move(conn));
  }
}

}  // namespace pahlawan

// PostgresStore: the production Store, on PostgreSQL 15 with PostGIS and pg_partman (see
// docs/postgres.md for the schema and the Citus layout).
//
// Writes: `lanes` committer threads, each owning one write connection. A unit goes to the lane of its
// item's cell (units without an item to lane 0), so one item's — one shard actor's — writes stay in
// order while different cells commit in parallel on the server. A lane takes every unit queued since
// its last commit (up to max_batch) and sends the whole batch as one transaction in libpq's pipeline
// mode — BEGIN, every statement of every unit, the events, COMMIT — so a burst of N requests costs a
// few round trips and one WAL flush per lane, not N (synchronous_commit stays on: durable before the
// reply). A stale version raises inside its statement (SQLSTATE PP409); then, as in SqliteStore, the
// batch is redone with a savepoint per unit so that only the failing unit is rolled back. A barrier
// (an empty unit) is queued on every lane and answered once every lane has passed it.
// Outbox order: the events of a transaction get their seq from one counter row, taken last and held
// until commit, so seq order is commit order even with several processes writing (the relay's
// "seq > cursor" never skips a late commit). Every commit with events sends NOTIFY pp_outbox.
// Reads: a small pool of connections, each read one statement prepared at connect.
// Events from other processes: a listener connection waits on LISTEN pp_outbox and wakes the
// on_events_committed listener for commits of other processes (this process's own commits wake it
// from the committer), and once after each reconnect, in case a notification was lost meanwhile.
// Connection loss: a batch fails with kUnavailable (its outcome is then unknown to the caller, as with
// any database) and the next batch reconnects; reads reconnect likewise.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "ports/group_commit.h"
#include "ports/lease_store.h"
#include "ports/store.h"

namespace pahlawan {

class PgConn;

struct PostgresStoreOptions {
  std::string url;  // a libpq connection string or postgres:// URI
  size_t max_batch = 2048;
  size_t max_queue = 50000;  // per lane
  int lanes = 2;             // write connections committing in parallel
  int read_connections = 4;
  std::chrono::milliseconds poll_interval{1000};  // how often the listener retries its connection
  bool migrate = false;  // apply missing migrations at open (else a database behind the binary is refused)
  // Where partitions past retention are archived (a path on the database server; see pg_archive.h);
  // empty: they stay detached in pp_detached until `pahlawan archive`.
  std::string archive_dir;
  // Several replicas (docs/replicas.md): a write transaction left idle this long is ended by the
  // server (a replica paused mid-commit — SIGSTOP, a stalled VM — must not hold its lease rows'
  // locks, and so its partitions, for as long as it sleeps; its transaction rolls back, fenced or
  // not), and a read waits at most this long for a lock (a lease takeover never blocks the lease
  // keeper's thread behind one). 0: no limit.
  std::chrono::milliseconds stall_limit{0};
  // Several replicas: the replica's owner id, as the application_name of its write sessions. A
  // stall inside a pipelined batch (requests sent, the transaction open, the rest never coming) is
  // not "idle in transaction" to the server and has no timeout; a replica taking over a lease that
  // expired more than stall_limit ago and whose row such a session still locks ends the sessions
  // of the lease's old owner (pg_terminate_backend: their transactions roll back), then takes it.
  std::string session_name;
};

class PostgresStore final : public Store, public LeaseStore {
 public:
  static Result<std::unique_ptr<PostgresStore>> open(PostgresStoreOptions options, MetricsRegistry* metrics);
  ~PostgresStore() override;  // flushes the queue, then stops the committer and the listener

  void commit(UnitOfWork unit, CommitDone done) override;
  Result<std::optional<Surplus>> find_surplus(const std::string& id) override;
  Result<std::vector<Surplus>> load_open_surplus() override;
  Result<std::vector<Surplus>> load_open_surplus_in(CellRange cells, uint64_t region) override;
  Result<std::vector<Surplus>> find_available_near(const BrowseArea& area, TimePoint created_before, TimePoint now,
                                                   const std::optional<std::string>& category, int limit) override;
  Result<std::optional<IdempotencyRecord>> find_idempotency(const std::string& provider_id,
                                                            const std::string& key) override;
  Result<std::vector<Surplus>> find_offers_for(const std::string& ngo_id) override;
  Result<std::vector<Surplus>> find_dead_letters(const std::optional<DlqPosition>& after, int limit) override;
  Result<std::vector<Surplus>> find_claimed_since(TimePoint since) override;
  Result<std::vector<Ngo>> load_ngos() override;
  Result<std::vector<Credential>> load_credentials() override;
  Result<std::optional<Credential>> find_credential(Role role, const std::string& id) override;
  Result<std::optional<Provider>> find_provider(const std::string& id) override;
  Result<std::optional<Ngo>> find_ngo(const std::string& id) override;
  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Result<std::vector<Event>> read_outbox(int64_t after_seq, int limit) override;
  Result<int64_t> last_outbox_seq() override;
  Result<std::vector<Event>> read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                             int limit) override;
  Result<int64_t> load_cursor(const std::string& consumer) override;

  Result<std::optional<Lease>> acquire(int64_t partition, const std::string& owner, Millis ttl) override;
  Status release(int64_t partition, const std::string& owner, int64_t epoch) override;
  Result<std::optional<Lease>> hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                         const std::string& to, Millis ttl) override;
  Result<std::vector<Lease>> leases() override;
  void on_events_committed(UniqueFunction<void()> listener) override;

  // Stops taking units and waits until everything queued is committed.
  void flush_and_stop();

 private:
  class ReaderLease;

  // One committer: its connection, its queue and thread, and its connection's backend pid.
  struct Lane {
    std::unique_ptr<PgConn> writer;  // its committer thread only
    std::unique_ptr<GroupCommitQueue> queue;
    std::atomic<int> pid{0};
  };

  PostgresStore(PostgresStoreOptions options, std::vector<std::unique_ptr<PgConn>> writers, MetricsRegistry* metrics);
  void run_listener();
  size_t lane_of(const UnitOfWork& unit) const;
  bool is_own_backend(int pid) const;
  void commit_batch(Lane& lane, std::vector<CommitJob>& batch);
  Status apply_batch(PgConn& writer, std::vector<CommitJob>& batch, std::vector<Status>& results, bool savepoints);
  std::unique_ptr<PgConn> acquire_reader();
  void release_reader(std::unique_ptr<PgConn> conn);
  void wake_listener();

  PostgresStoreOptions options_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::mutex mu_;
  bool stopping_ = false;  // GUARDED_BY(mu_): the listener thread's
  std::condition_variable stop_cv_;
  std::mutex listener_mu_;
  UniqueFunction<void()> listener_;  // GUARDED_BY(listener_mu_): called by the committer and the listener thread
  std::thread notifier_;
  int wake_fd_ = -1;  // an eventfd: flush_and_stop() ends the listener's poll through it

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<PgConn>> readers_;  // GUARDED_BY(readers_mu_): idle read connections

  Histogram* batch_size_ = nullptr;
  Histogram* commit_seconds_ = nullptr;
  Counter* rejected_ = nullptr;
};

}  // namespace pahlawan

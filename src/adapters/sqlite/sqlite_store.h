// SqliteStore: the embedded Store, one SQLite database in WAL mode with synchronous=FULL.
//
// Writes: one committer thread owns the only write connection. It takes every unit queued since its
// last commit (up to max_batch) and applies them in one transaction, each inside its own SAVEPOINT so
// a unit that fails (stale version, duplicate key) is rolled back alone; then one COMMIT, one fsync,
// and every `done` is called. A burst of N requests therefore costs about N / batch fsyncs. The queue
// is bounded (max_queue): beyond it commit() answers kUnavailable at once instead of queueing.
// Reads: a small pool of read-only connections; WAL lets them read while the committer writes.
// Checkpoints (copying the WAL back into the database file) run on their own thread and connection,
// started when the WAL passes ~1000 pages, so the committer never pays for them.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "common/metrics.h"
#include "ports/group_commit.h"
#include "ports/lease_store.h"
#include "ports/store.h"

namespace pahlawan {

class SqliteDb;

struct SqliteStoreOptions {
  std::string path;
  size_t max_batch = 4096;
  size_t max_queue = 50000;
  int read_connections = 4;
};

class SqliteStore final : public Store, public LeaseStore {
 public:
  static Result<std::unique_ptr<SqliteStore>> open(SqliteStoreOptions options, MetricsRegistry* metrics);
  ~SqliteStore() override;  // flushes the queue, then stops the committer

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
  void on_events_committed(UniqueFunction<void()> listener) override;

  // Leases expire by the system clock; they are written on a connection of their own (rare writes,
  // which wait for the committer's transaction through SQLite's busy timeout).
  Result<std::optional<Lease>> acquire(int64_t partition, const std::string& owner, Millis ttl) override;
  Status release(int64_t partition, const std::string& owner, int64_t epoch) override;
  Result<std::optional<Lease>> hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                         const std::string& to, Millis ttl) override;
  Result<std::vector<Lease>> leases() override;

  // Stops taking units and waits until everything queued is committed.
  void flush_and_stop();

 private:
  class ReaderLease;

  SqliteStore(SqliteStoreOptions options, std::unique_ptr<SqliteDb> writer, MetricsRegistry* metrics);
  void run_checkpointer();
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int pages);
  void commit_batch(std::vector<CommitJob>& batch);
  Status apply(const UnitOfWork& unit);
  // The current epochs of these partitions' leases, read in the committer's open transaction.
  // What the NGOs hold now (NGO budgets). REQUIRES: the writer's transaction.
  Result<std::map<std::string, NgoHolding>> ngo_holdings(const std::map<std::string, TimePoint>& since);
  Result<std::map<int64_t, int64_t>> lease_epochs(const std::set<int64_t>& partitions);
  Status open_lease_db();  // REQUIRES: lease_mu_ held
  Status run_cached(const char* sql);
  Status apply_batch(std::vector<CommitJob>& batch, std::vector<Status>& results, bool savepoints);
  std::unique_ptr<SqliteDb> acquire_reader();
  void release_reader(std::unique_ptr<SqliteDb> db);

  SqliteStoreOptions options_;
  std::unique_ptr<SqliteDb> writer_;  // committer thread only
  std::mutex lease_mu_;
  std::unique_ptr<SqliteDb> lease_db_;  // GUARDED_BY(lease_mu_): opened at the first lease call

  GroupCommitQueue queue_;
  UniqueFunction<void()> listener_;
  std::mutex mu_;
  bool stopping_ = false;  // GUARDED_BY(mu_): the checkpointer's
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;  // GUARDED_BY(mu_)
  std::thread checkpointer_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<SqliteDb>> readers_;  // GUARDED_BY(readers_mu_): idle read connections

  Histogram* batch_size_ = nullptr;
  Histogram* commit_seconds_ = nullptr;
  Counter* rejected_ = nullptr;
};

}  // namespace pahlawan

// InMemoryStore: a real Store kept in memory — same unit-of-work semantics as SqliteStore (atomic
// units, version checks, ordered outbox, barriers) without durability. The city simulator
// (`pahlawan simulate`) runs the engine on it; the unit tests use it with the controls below.
// In held mode commits wait in a queue until the test calls release(), which lets tests observe what
// happens while a write is in flight; fail_next() makes the next unit fail, as a disk error would.
// It enforces what SqliteStore enforces (unique ids of items, events and parties, unique token
// hashes per role, one record per idempotency key, a bounded queue) so that it passes the same
// contract suite (test/contract/store_contract_test.cc). reopened() is a restart: what was
// committed survives, held units are lost as in a crash. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "ports/lease_store.h"
#include "ports/store.h"

namespace pahlawan {

class InMemoryStore final : public Store, public LeaseStore {
 public:
  void hold(bool on) { held_ = on; }
  void fail_next(Status s) {
    std::lock_guard lock(mu_);
    fail_next_ = std::move(s);
  }
  // The next `n` outbox reads fail (kUnavailable), as a busy or broken disk would.
  void fail_outbox_reads(int n) {
    std::lock_guard lock(mu_);
    failing_reads_ = n;
  }
  // The next `n` Geo-DLQ reads fail (kUnavailable).
  void fail_dead_letter_reads(int n) {
    std::lock_guard lock(mu_);
    failing_dlq_reads_ = n;
  }
  // Decides every held unit, in order. Returns how many.
  size_t release();
  // Held units beyond this many are refused with kUnavailable (SqliteStoreOptions::max_queue).
  void set_max_queue(size_t n) { max_queue_ = n; }
  // A new store holding what this one committed (its held units are dropped, as a crash would).
  std::unique_ptr<InMemoryStore> reopened() const;

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
  // Leases expire by the system clock, or by `clock` once set (tests of what keeps leases).
  void set_lease_clock(const Clock* clock) { lease_clock_ = clock; }
  Result<std::optional<Lease>> acquire(int64_t partition, const std::string& owner, Millis ttl) override;
  Status release(int64_t partition, const std::string& owner, int64_t epoch) override;
  Result<std::optional<Lease>> hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                         const std::string& to, Millis ttl) override;
  Result<std::vector<Lease>> leases() override;
  void on_events_committed(UniqueFunction<void()> listener) override { listener_ = std::move(listener); }

  std::vector<Event> events() const;

 private:
  Status check(const UnitOfWork& u) const;  // REQUIRES: mu_ held; whether the unit may be applied
  void apply(const UnitOfWork& u);          // REQUIRES: mu_ held, check(u) passed
  void decide(UnitOfWork unit, CommitDone done);

  bool held_ = false;
  size_t max_queue_ = SIZE_MAX;
  mutable std::mutex mu_;
  std::deque<std::pair<UnitOfWork, CommitDone>> pending_;  // GUARDED_BY(mu_)
  std::optional<Status> fail_next_;                        // GUARDED_BY(mu_)
  int failing_reads_ = 0;                                  // GUARDED_BY(mu_)
  int failing_dlq_reads_ = 0;                              // GUARDED_BY(mu_)
  std::map<std::string, Surplus> surplus_;
  std::map<std::string, IdempotencyRecord> idempotency_;
  std::map<std::string, Provider> providers_;
  std::map<std::string, Ngo> ngos_;
  std::vector<Credential> credentials_;
  std::map<std::string, std::string> meta_;
  std::map<std::string, int64_t> cursors_;
  std::map<int64_t, Lease> leases_;  // GUARDED_BY(mu_)
  const Clock* lease_clock_ = nullptr;
  std::vector<Event> outbox_;
  std::set<std::string> event_ids_;  // of the events still in the outbox (SQLite: a UNIQUE column)
  int64_t last_seq_ = 0;             // outbox seqs are never reused, even after retention deleted rows
  UniqueFunction<void()> listener_;
};

}  // namespace pahlawan

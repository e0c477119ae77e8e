// NgoLedger: what the platform has promised each NGO — kg claimed in the rolling 24 hours, kg and
// count of pending offers. try_reserve() checks capacity and the notification cap and records the
// offer in one step under one lock, so two shards can never both promise an NGO its last 5 kg.
// Reservations are keyed by item: an item holds at most one pending offer, so reserving it for an NGO
// replaces any reservation it held, and releasing it twice is harmless — which lets the shard actor
// set an item's reservation back to what the store says after a failed write, whatever happened
// in between. In memory; rebuilt at start from the store (recent claims, pending offers). Claims older
// than 24 hours are dropped for every NGO as time passes (a heap of claim times, checked on each
// call), not only when an NGO is a candidate again, so an NGO that stops taking food holds nothing.
// Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "domain/matching_rules.h"

namespace pahlawan {

class NgoLedger {
 public:
  explicit NgoLedger(const Clock& clock) : clock_(clock) {}

  NgoLoad load(const std::string& ngo_id);
  // Records the pending offer of item `surplus_id` (`kg`) to the NGO if it has room for it
  // (capacity_kg, max_pending); true at once if the item is already reserved for this NGO.
  bool try_reserve(const Ngo& ngo, const std::string& surplus_id, double kg, int max_pending);
  // Records the pending offer whatever the limits (an operator's assignment, a restart, the store's
  // word after a failed write).
  void force_reserve(const std::string& ngo_id, const std::string& surplus_id, double kg);
  // The item's pending offer ended (timeout, decline, claim, expiry, cancel); no-op if it had none.
  void release(const std::string& surplus_id);
  // Counts item `surplus_id`'s claim against the NGO's rolling 24 hours; once per item.
  void record_claim(const std::string& ngo_id, const std::string& surplus_id, double kg, TimePoint at);
  // The item's claim did not happen after all (its write failed); no-op if none was recorded.
  void forget_claim(const std::string& surplus_id);
  // Sets the item's reservation and claim to what its state `s` says (the store's word after a
  // failed write; another replica's event): reserved for its pending offer or released, its claim
  // counted or forgotten.
  void follow(const Surplus& s);
  // Items the ledger holds anything for (pending offers, claims of the last 24 hours): tests, metrics.
  size_t items_held();
  // Called (outside the lock, on the thread that released it) each time an NGO's pending offer ends
  // and so a slot under its notification cap frees. Set once, before use.
  void on_slot_freed(std::function<void(const std::string& ngo_id)> listener) { slot_freed_ = std::move(listener); }

 private:
  struct Entry {
    struct Claim {
      TimePoint at;
      double kg;
      std::string surplus_id;
    };
    std::deque<Claim> claims;  // oldest first
    double reserved_kg = 0;
    int pending = 0;
  };
  struct Reservation {
    std::string ngo_id;
    double kg = 0;
  };
  // REQUIRES: mu_ held.
  NgoLoad load_locked(Entry& e);  // also drops claims older than 24 hours
  void reserve_locked(const std::string& ngo_id, const std::string& surplus_id, double kg);
  void release_locked(const std::string& surplus_id);
  void notify(std::vector<std::string> freed);  // REQUIRES: mu_ not held
  void prune_locked();  // drops claims older than 24 hours, across NGOs, and NGOs left with nothing

  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;             // GUARDED_BY(mu_): by NGO id
  std::unordered_map<std::string, Reservation> reservations_;  // GUARDED_BY(mu_): by item id
  std::unordered_map<std::string, std::string> claimer_of_;    // GUARDED_BY(mu_): item id -> NGO id
  using ClaimTime = std::pair<TimePoint, std::string>;         // when, which NGO
  std::priority_queue<ClaimTime, std::vector<ClaimTime>, std::greater<>> claim_times_;  // GUARDED_BY(mu_)
  std::vector<std::string> freed_;  // GUARDED_BY(mu_): NGOs whose slot freed, not yet told
  std::function<void(const std::string&)> slot_freed_;
};

}  // namespace pahlawan

// NgoLedger: what the platform has promised each NGO — kg claimed in the rolling 24 hours, kg and
// count of pending offers. try_reserve() checks capacity and the notification cap and records the
// offer in one step under one lock, so two shards can never both promise an NGO its last 5 kg.
// In memory; rebuilt at start from the store (recent claims, pending offers). Thread-safe.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "domain/matching_rules.h"

namespace pahlawan {

class NgoLedger {
 public:
  explicit NgoLedger(const Clock& clock) : clock_(clock) {}

  NgoLoad load(const std::string& ngo_id);
  // Records a pending offer of `kg` if the NGO has room for it (capacity_kg, max_pending).
  bool try_reserve(const Ngo& ngo, double kg, int max_pending);
  // Records a pending offer whatever the limits (an operator's assignment, or a restart).
  void force_reserve(const std::string& ngo_id, double kg);
  // A pending offer ended without this NGO claiming (timeout, decline, someone else claimed, expiry).
  void release(const std::string& ngo_id, double kg);
  void record_claim(const std::string& ngo_id, double kg, TimePoint at);

 private:
  struct Entry {
    std::deque<std::pair<TimePoint, double>> claims;  // oldest first
    double reserved_kg = 0;
    int pending = 0;
  };
  NgoLoad load_locked(Entry& e);  // REQUIRES: mu_ held

  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace pahlawan

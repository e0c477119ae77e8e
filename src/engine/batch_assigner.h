// BatchAssigner: with --match-window W, items that need an offer are assigned together instead of one
// at a time. Per region (the level-6 cell, so regions stay independent), the first item that asks
// opens a window; when it closes W later, the items that asked meanwhile plus the most urgent of the
// region's waiting line are assigned in one min-cost assignment (assignment_solver.h): as many items
// as the NGOs' free slots allow, then the least total travel (great-circle distance), honouring kind,
// category, radius, remaining 24-hour capacity and the notification cap. An NGO's freed slot opens a
// window in the regions its radius touches.
//
// The assigner decides nothing on its own: each assignment goes back to the item's shard actor
// (Dispatch), which re-checks the item (same version, still open) and reserves the NGO in the ledger
// — the exact check of capacity and cap — before it commits the offer; if either fails, or the item
// got no NGO, the actor matches it greedily at once (which may make it wait). Items of a DLQ retry
// bypass the window.
// Thread-safe; close() runs on the deadline thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "domain/matching_rules.h"
#include "domain/surplus.h"
#include "engine/deadline_queue.h"
#include "engine/ngo_ledger.h"
#include "engine/waiting_line.h"
#include "ports/ngo_directory.h"

namespace pahlawan {

class BatchAssigner {
 public:
  // The outcome for one item: the NGO to offer it to, or none (match it greedily).
  using Dispatch = std::function<void(uint64_t cell, const std::string& id, int64_t version,
                                      const std::optional<std::string>& ngo_id)>;

  BatchAssigner(Millis window, NgoDirectory& directory, NgoLedger& ledger, const WaitingLine* line,
                DeadlineQueue& deadlines, MatchPolicy policy, const Clock& clock, int candidates = 32,
                size_t max_waiting_per_window = 1000);
  void set_dispatch(Dispatch dispatch) { dispatch_ = std::move(dispatch); }  // REQUIRES: before use

  Millis window() const { return window_; }
  // `s` (as its actor sees it, ready to be matched) joins its region's window.
  void enqueue(const Surplus& s);
  // An NGO's slot freed: a window opens where its waiting items could use it.
  void slot_freed(const std::string& ngo_id);
  // The region's window closed (its deadline came): assign, and hand every item back.
  void close(uint64_t region);

  size_t batches() const;  // windows closed so far (for tests and metrics)

 private:
  void open_locked(uint64_t region);  // REQUIRES: mu_

  const Millis window_;
  NgoDirectory& directory_;
  NgoLedger& ledger_;
  const WaitingLine* line_;
  DeadlineQueue& deadlines_;
  const MatchPolicy policy_;
  const Clock& clock_;
  const int candidates_;
  const size_t max_waiting_;
  Dispatch dispatch_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::map<std::string, Surplus>> open_;  // GUARDED_BY(mu_): region -> items
  size_t batches_ = 0;                                                 // GUARDED_BY(mu_)
};

}  // namespace pahlawan

// WaitingLine: available items that wait for an NGO slot to free — every NGO that could take them was
// at its pending-offer cap — grouped by region (the S2 cell at level 6 that also groups the Geo-DLQ),
// most urgent first: earliest expires_at, then oldest post, then id.
//
// The shard actors own their items and decide when one starts or stops waiting (add / remove, from
// their mailboxes); the line only remembers the order. When an NGO's slot frees (the NgoLedger says
// so), slot_freed() takes the most urgent waiting item near that NGO that it could take and hands it
// back to its actor with that NGO (dispatch); the actor offers it to that NGO if the ledger still
// reserves the slot — so the decision stays in the actor, serialized with the item's claims. If the
// slot is gone again by then, the actor matches the item greedily, which puts it back in line. (An
// earlier version handed the item back to be matched greedily: its nearest 32 NGOs often did not
// include the freed one, and the slot went unused — the herd rescued 27 % of its kg instead of 36 %.) Each region has
// its own lock: posts and claims in one city never wait on another's line. The line is memory only; it is rebuilt from
// the store at start (items with waiting_since set). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "domain/geo.h"
#include "domain/matching_rules.h"
#include "domain/surplus.h"
#include "engine/ngo_ledger.h"
#include "ports/ngo_directory.h"

namespace pahlawan {

class WaitingLine {
 public:
  // Hands a waiting item (as it was at `version`) back to its shard actor with the NGO whose slot freed
  // (ShardActor::assigned): offered to that NGO if the ledger reserves it, matched greedily otherwise.
  using Dispatch =
      std::function<void(uint64_t cell, const std::string& id, int64_t version, const std::string& ngo_id)>;

  WaitingLine(NgoDirectory& directory, NgoLedger& ledger, MatchPolicy policy, const Clock& clock,
              MetricsRegistry* metrics = nullptr);
  void set_dispatch(Dispatch dispatch) { dispatch_ = std::move(dispatch); }  // REQUIRES: before use

  // `s` waits (waiting_since set): adds it, or updates its entry. Idempotent.
  void add(const Surplus& s);
  // `s` is not (or no longer) waiting; no-op if it was not in the line.
  void remove(const Surplus& s);
  // `before`, a waiting item, stops waiting (offered, dead-lettered, claimed, gone): out of the line,
  // and its time waited goes into the histogram — also when slot_freed() had taken it out already.
  void left(const Surplus& before);
  // An NGO has a free slot: the most urgent item near it that it could take goes to its actor.
  void slot_freed(const std::string& ngo_id);

  // The line, most urgent first: of one region (its cell token) or all; at most `limit` items.
  std::vector<Surplus> list(const std::optional<std::string>& region_token, size_t limit) const;
  // The line of one region (by cell id), most urgent first, at most `limit` items; and its length.
  std::vector<Surplus> list_region(uint64_t region, size_t limit) const;
  size_t region_size(uint64_t region) const;
  size_t size() const;
  // Waiting items by region token, for the gauge.
  std::vector<std::pair<std::string, size_t>> size_by_region() const;

 private:
  using Key = std::tuple<TimePoint, TimePoint, std::string>;  // expires_at, created_at, id
  struct Entry {
    std::shared_ptr<const Surplus> item;
    std::set<std::string> offered;  // NGOs offered it before (not eligible again)
  };
  struct Region {
    mutable std::mutex mu;
    std::set<Key> order;                             // GUARDED_BY(mu)
    std::unordered_map<std::string, Entry> entries;  // GUARDED_BY(mu)
  };
  static Key key_of(const Surplus& s) { return {s.expires_at, s.created_at, s.id}; }
  Region& region(uint64_t id);             // created on first use
  Region* find_region(uint64_t id) const;  // null: none yet

  NgoDirectory& directory_;
  NgoLedger& ledger_;
  const MatchPolicy policy_;
  const Clock& clock_;
  Dispatch dispatch_;
  Histogram* waited_ = nullptr;
  mutable std::shared_mutex regions_mu_;
  std::unordered_map<uint64_t, std::unique_ptr<Region>> regions_;  // GUARDED_BY(regions_mu_); never erased
};

}  // namespace pahlawan

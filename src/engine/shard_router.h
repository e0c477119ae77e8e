// ShardRouter: finds the shard actor that owns a cell or an item, creating actors on first use.
// Actors are cheap (a mailbox and a map), but a provider posting across a wide area touches thousands
// of cells: an actor that holds nothing, runs nothing and that nobody references is dropped when the
// actor count doubles (and by reclaim_idle()), so the count follows the cells with open items. Knows
// which cell each open item is in; for other ids it asks the store. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "engine/shard_actor.h"

namespace pahlawan {

class ShardRouter {
 public:
  ShardRouter(int level, Store& store, HotGeoIndex& index, DeadlineQueue& expiries, EventFactory& events,
              Executor& pool, const Clock& clock, Millis hot_window = std::chrono::hours(2));
  // Drops what the mailboxes still hold: the tasks keep their actors alive, so without this an actor
  // with work left at shutdown would never be freed. REQUIRES: the pool no longer runs anything.
  ~ShardRouter();

  int level() const { return level_; }
  // The actor of a cell. Hold the pointer only for the call: an actor kept alive by a caller cannot be
  // reclaimed, but one reclaimed meanwhile would be replaced by a second actor for the same cell.
  std::shared_ptr<ShardActor> actor_for_cell(uint64_t cell);
  // Drops every idle actor (no item, no task, no reference but the router's). Returns how many.
  size_t reclaim_idle();
  // Reclaims when the actor count reaches max(floor, twice the count left by the last reclaim).
  void set_reclaim_floor(size_t floor) {
    std::lock_guard lock(mu_);
    reclaim_floor_ = next_reclaim_at_ = floor;
  }
  // The cell of an item: from memory for open items, else from the store. nullopt: no such item.
  Result<std::optional<uint64_t>> locate(const std::string& id);
  // The cell of an open item, from memory only (nullopt: not open here; the store may know it).
  std::optional<uint64_t> known_cell(const std::string& id);
  // Turns matching on; with a line, items whose NGOs are all busy wait in it, and each slot the
  // ledger frees hands the most urgent one it fits back to its actor. REQUIRES: before
  // load_open_items() and before serving.
  // With a batch assigner, matches go through its windows, and freed slots open windows instead.
  void enable_matching(Matcher& matcher, NgoLedger& ledger, WaitingLine* line = nullptr,
                       BatchAssigner* batch = nullptr);
  // A batch window's deadline came (the region's cell id).
  void close_window(uint64_t region) {
    if (ctx_.batch) ctx_.batch->close(region);
  }
  // Hands every open item of the store to its actor (at start, before serving).
  Status load_open_items();
  // Several replicas (docs/replicas.md): every unit is fenced by the keeper's leases, and a cell of
  // a partition held elsewhere is answered kElsewhere. REQUIRES: before serving; then
  // load_open_items() is not used: partitions are adopted as their leases are gained.
  void enable_leases(LeaseKeeper& keeper) { ctx_.leases = &keeper; }
  // Spans for the actors' turns, store commits and route requests. REQUIRES: before serving.
  void enable_tracing(const Tracer& tracer) { ctx_.tracer_ptr = &tracer; }
  // This replica gained `partition`: its open items are loaded from the store and adopted by their
  // actors, deadlines and all. Called by the keeper (any thread).
  Status adopt_partition(int64_t partition);
  // This replica lost `partition`: the actors of its cells forget their items.
  void drop_partition(int64_t partition);
  size_t actor_count() const;
  // Open items whose cell the router remembers; and items held by all actors (REQUIRES: every mailbox
  // idle — for tests).
  size_t tracked_items() const;
  size_t items_held() const;
  Millis hot_window() const { return ctx_.hot_window; }
  // Available items older than the hot window: browsing asks the store for them only when > 0.
  int64_t cold_available() const { return cold_available_.load(); }

 private:
  void track(const std::string& id, uint64_t cell, bool open);
  size_t reclaim_idle_locked();  // REQUIRES: mu_

  const int level_;
  Store& store_;
  std::atomic<int64_t> cold_available_{0};
  ShardContext ctx_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, std::shared_ptr<ShardActor>> actors_;  // GUARDED_BY(mu_)
  size_t reclaim_floor_ = 4096;                                       // GUARDED_BY(mu_)
  size_t next_reclaim_at_ = 4096;                                     // GUARDED_BY(mu_)
  std::unordered_map<std::string, uint64_t> cell_of_;                 // GUARDED_BY(mu_): open items
};

}  // namespace pahlawan

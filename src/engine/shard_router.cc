#include "engine/shard_router.h"

#include <algorithm>
#include <vector>

#include "domain/geo.h"

namespace pahlawan {

ShardRouter::ShardRouter(int level, Store& store, HotGeoIndex& index, DeadlineQueue& expiries, EventFactory& events,
                         Executor& pool, const Clock& clock, Millis hot_window)
    : level_(level),
      store_(store),
      ctx_{store,
           index,
           expiries,
           events,
           pool,
           clock,
           hot_window,
           cold_available_,
           [this](const std::string& id, uint64_t cell, bool open) { track(id, cell, open); }} {}

ShardRouter::~ShardRouter() {
  std::vector<std::shared_ptr<ShardActor>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [cell, actor] : actors_) all.push_back(actor);
  }
  for (auto& actor : all) actor->discard_pending();  // outside the lock: a task's captures may do anything
}

void ShardRouter::enable_matching(Matcher& matcher, NgoLedger& ledger, WaitingLine* line, BatchAssigner* batch) {
  ctx_.matcher = &matcher;
  ctx_.ledger = &ledger;
  ctx_.line = line;
  ctx_.batch = batch;
  if (batch) {
    batch->set_dispatch(
        [this](uint64_t cell, const std::string& id, int64_t version, const std::optional<std::string>& ngo_id) {
          actor_for_cell(cell)->assigned(id, version, ngo_id);
        });
    ledger.on_slot_freed([batch](const std::string& ngo_id) { batch->slot_freed(ngo_id); });
    return;
  }
  if (!line) return;
  line->set_dispatch([this](uint64_t cell, const std::string& id, int64_t version, const std::string& ngo_id) {
    actor_for_cell(cell)->assigned(id, version, ngo_id);
  });
  ledger.on_slot_freed([line](const std::string& ngo_id) { line->slot_freed(ngo_id); });
}

std::shared_ptr<ShardActor> ShardRouter::actor_for_cell(uint64_t cell) {
  std::lock_guard lock(mu_);
  auto it = actors_.find(cell);
  if (it != actors_.end()) return it->second;
  if (actors_.size() >= next_reclaim_at_) {
    reclaim_idle_locked();
    next_reclaim_at_ = std::max(reclaim_floor_, 2 * actors_.size());
  }
  auto actor = std::make_shared<ShardActor>(cell, ctx_);
  actors_.emplace(cell, actor);
  return actor;
}

size_t ShardRouter::reclaim_idle() {
  std::lock_guard lock(mu_);
  return reclaim_idle_locked();
}

size_t ShardRouter::reclaim_idle_locked() {
  // use_count() == 1: no task, store callback, route callback or caller holds the actor, and none can
  // get it without mu_. Those ended before their last reference went, so reclaimable() reads what they
  // left; the shared_ptr's own atomic count orders the destruction after them.
  size_t dropped = 0;
  for (auto it = actors_.begin(); it != actors_.end();) {
    if (it->second.use_count() == 1 && it->second->reclaimable()) {
      it = actors_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

void ShardRouter::track(const std::string& id, uint64_t cell, bool open) {
  std::lock_guard lock(mu_);
  if (open) {
    cell_of_[id] = cell;
  } else {
    cell_of_.erase(id);
  }
}

std::optional<uint64_t> ShardRouter::known_cell(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = cell_of_.find(id);
  if (it != cell_of_.end()) return it->second;
  return std::nullopt;
}

Result<std::optional<uint64_t>> ShardRouter::locate(const std::string& id) {
  if (auto cell = known_cell(id)) return cell;
  auto found = store_.find_surplus(id);
  if (!found) return found.status();
  if (!*found) return std::optional<uint64_t>();
  return std::optional<uint64_t>((*found)->cell);
}

Status ShardRouter::load_open_items() {
  auto items = store_.load_open_surplus();
  if (!items) return items.status();
  for (auto& s : *items) {
    const uint64_t cell = s.cell;
    actor_for_cell(cell)->adopt(std::move(s));
  }
  return Status::ok();
}

Status ShardRouter::adopt_partition(int64_t partition) {
  auto items = store_.load_open_surplus_in(cells_of_partition(partition), region_of_partition(partition));
  if (!items) return items.status();
  std::unordered_map<uint64_t, std::vector<Surplus>> by_cell;
  for (auto& s : *items) by_cell[s.cell].push_back(std::move(s));
  for (auto& [cell, list] : by_cell) actor_for_cell(cell)->adopt_gained(std::move(list));
  return Status::ok();
}

void ShardRouter::drop_partition(int64_t partition) {
  std::vector<std::shared_ptr<ShardActor>> in_it;
  {
    std::lock_guard lock(mu_);
    for (const auto& [cell, actor] : actors_) {
      if (partition_of_cell(cell) == partition) in_it.push_back(actor);
    }
  }
  for (auto& actor : in_it) actor->drop();
}

size_t ShardRouter::tracked_items() const {
  std::lock_guard lock(mu_);
  return cell_of_.size();
}

size_t ShardRouter::items_held() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [cell, actor] : actors_) n += actor->items_held();
  return n;
}

size_t ShardRouter::actor_count() const {
  std::lock_guard lock(mu_);
  return actors_.size();
}

}  // namespace pahlawan

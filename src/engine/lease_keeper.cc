#include "engine/lease_keeper.h"

namespace pahlawan {

LeaseKeeper::LeaseKeeper(LeaseStore& store, const Clock& clock, std::string owner, Millis ttl, Callbacks callbacks)
    : store_(store), clock_(clock), owner_(std::move(owner)), ttl_(ttl), callbacks_(std::move(callbacks)) {}

std::optional<int64_t> LeaseKeeper::epoch_for(int64_t partition) {
  std::optional<int64_t> had;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(partition);
    if (it != held_.end()) {
      if (clock_.now() < it->second.renewed + ttl_) return it->second.epoch;
      had = it->second.epoch;  // not renewed for a TTL: it may have changed hands
    }
  }
  const TimePoint sent = clock_.now();
  auto lease = store_.acquire(partition, owner_, ttl_);
  if (!lease) return std::nullopt;  // the store did not answer: tick() decides about a held lease
  if (had && (!*lease || (*lease)->epoch != *had)) lose(partition);  // someone else's meanwhile
  if (!*lease) return std::nullopt;
  bool gained;
  {
    std::lock_guard lock(mu_);
    gained = held_.insert_or_assign(partition, Held{(*lease)->epoch, sent}).second;
  }
  if (gained && callbacks_.gained) callbacks_.gained(partition, (*lease)->epoch);
  return (*lease)->epoch;
}

void LeaseKeeper::tick() {
  std::vector<std::pair<int64_t, int64_t>> due;  // partition, epoch
  {
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.now();
    for (const auto& [p, h] : held_) {
      if (now - h.renewed >= ttl_ / 3) due.emplace_back(p, h.epoch);
    }
  }
  for (const auto& [partition, epoch] : due) {
    const TimePoint sent = clock_.now();
    auto lease = store_.acquire(partition, owner_, ttl_);
    bool lost = false;
    {
      std::lock_guard lock(mu_);
      auto it = held_.find(partition);
      if (it == held_.end()) continue;
      if (lease && *lease && (*lease)->epoch == epoch) {
        it->second.renewed = sent;
      } else if (lease) {
        // Refused: another replica took it after it lapsed. (Or taken back at a new epoch: what
        // this replica holds in memory may be stale, so it is dropped too and loaded again.)
        lost = true;
      } else {
        lost = clock_.now() >= it->second.renewed + ttl_;  // the store did not answer, for a TTL
      }
    }
    if (lost) lose(partition);
  }
}

void LeaseKeeper::lose(int64_t partition) {
  {
    std::lock_guard lock(mu_);
    if (held_.erase(partition) == 0) return;
  }
  if (callbacks_.lost) callbacks_.lost(partition);
}

void LeaseKeeper::release_all() {
  std::map<int64_t, Held> held;
  {
    std::lock_guard lock(mu_);
    held.swap(held_);
  }
  for (const auto& [partition, h] : held) (void)store_.release(partition, owner_, h.epoch);
}

std::vector<int64_t> LeaseKeeper::held() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [p, h] : held_) out.push_back(p);
  return out;
}

}  // namespace pahlawan

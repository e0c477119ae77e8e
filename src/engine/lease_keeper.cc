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

namespace {
// How long another replica's lease is believed without asking the store again.
constexpr Millis kForeignFresh = std::chrono::seconds(1);
}  // namespace

Result<UnitOfWork::Fence> LeaseKeeper::fence_for(int64_t partition) {
  {
    std::lock_guard lock(mu_);
    auto f = foreign_.find(partition);
    if (!held_.count(partition) && f != foreign_.end() && clock_.now() < f->second.read + kForeignFresh) {
      return Status(ErrorCode::kElsewhere, f->second.owner);
    }
  }
  if (auto epoch = epoch_for(partition)) return UnitOfWork::Fence{partition, *epoch};
  read_foreign();
  std::lock_guard lock(mu_);
  auto f = foreign_.find(partition);
  if (f != foreign_.end()) return Status(ErrorCode::kElsewhere, f->second.owner);
  return Status(ErrorCode::kUnavailable, "the partition of this place is changing hands; retry");
}

std::vector<int64_t> LeaseKeeper::read_foreign() {
  auto all = store_.leases();
  if (!all) return {};
  std::vector<int64_t> orphaned;
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  foreign_read_ = now;
  std::map<int64_t, Foreign> next;
  for (const auto& l : *all) {
    if (l.owner == owner_) continue;
    Foreign f{l.owner, l.epoch, l.expires_at, now, now};
    if (auto it = foreign_.find(l.partition); it != foreign_.end() && it->second.owner == l.owner &&
                                              it->second.epoch == l.epoch && it->second.expires_at == l.expires_at) {
      f.unchanged_since = it->second.unchanged_since;
      if (now - f.unchanged_since >= ttl_ / 2) orphaned.push_back(l.partition);
    }
    next.emplace(l.partition, std::move(f));
  }
  foreign_.swap(next);
  return orphaned;
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
  bool read_due;
  {
    std::lock_guard lock(mu_);
    read_due = clock_.now() - foreign_read_ >= ttl_ / 3;
  }
  if (!read_due) return;
  for (int64_t p : read_foreign()) (void)epoch_for(p);  // granted only if it expired
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

bool LeaseKeeper::holds(int64_t partition) const {
  std::lock_guard lock(mu_);
  return held_.count(partition) > 0;
}

std::vector<int64_t> LeaseKeeper::held() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> out;
  for (const auto& [p, h] : held_) out.push_back(p);
  return out;
}

}  // namespace pahlawan

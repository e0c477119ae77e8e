#include "engine/lease_keeper.h"

namespace pahlawan {

LeaseKeeper::LeaseKeeper(LeaseStore& store, const Clock& clock, std::string owner, Millis ttl, Callbacks callbacks)
    : store_(store), clock_(clock), owner_(std::move(owner)), ttl_(ttl), callbacks_(std::move(callbacks)) {}

std::optional<int64_t> LeaseKeeper::epoch_for(int64_t partition) {
  std::optional<int64_t> had;
  {
    std::lock_guard lock(mu_);
    if (shedding_.count(partition)) return std::nullopt;  // being handed over (balance)
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
  if (gained) acquired_.fetch_add(1);
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

LeaseKeeper::Read LeaseKeeper::read_foreign() {
  auto all = store_.leases();
  if (!all) return {};
  Read out;
  std::lock_guard lock(mu_);
  const TimePoint now = clock_.now();
  foreign_read_ = now;
  std::map<int64_t, Foreign> next;
  for (const auto& l : *all) {
    if (l.owner == owner_) {
      if (!member_slot(l.partition) && !held_.count(l.partition) && !shedding_.count(l.partition)) {
        out.given.push_back(l.partition);
      }
      continue;
    }
    Foreign f{l.owner, l.epoch, l.expires_at, now, now};
    if (auto it = foreign_.find(l.partition);
        it != foreign_.end() && it->second.owner == l.owner && it->second.epoch == l.epoch) {
      if (it->second.expires_at == l.expires_at) {
        f.unchanged_since = it->second.unchanged_since;
        f.released = it->second.released;
      } else {
        f.released = l.expires_at < it->second.expires_at;
      }
      // A member lease is nobody's to take: a joining replica takes a free slot itself.
      if (!member_slot(l.partition) && unrenewed(f, now)) {
        out.orphaned.push_back(l.partition);
      }
    }
    next.emplace(l.partition, std::move(f));
  }
  foreign_.swap(next);
  return out;
}

void LeaseKeeper::keep_membership() {
  std::optional<Member> had;
  {
    std::lock_guard lock(mu_);
    if (member_ && clock_.now() - member_->renewed < ttl_ / 3) return;
    had = member_;
  }
  const TimePoint sent = clock_.now();
  if (had) {
    auto lease = store_.acquire(had->id, owner_, ttl_);
    std::lock_guard lock(mu_);
    if (lease && *lease && (*lease)->epoch == had->epoch) {
      member_->renewed = sent;
      return;
    }
    if (!lease && clock_.now() < had->renewed + ttl_) return;  // the store did not answer: try again
    member_.reset();  // refused or lapsed: join again, in whichever slot is free
  }
  for (int64_t slot = 0; slot < kMemberSlots; ++slot) {
    auto lease = store_.acquire(2 * slot + 1, owner_, ttl_);
    if (!lease) return;
    if (*lease) {
      std::lock_guard lock(mu_);
      member_ = Member{2 * slot + 1, (*lease)->epoch, sent};
      return;
    }
  }
}

void LeaseKeeper::balance() {
  int64_t partition = 0, epoch = 0;
  std::string to;
  {
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.now();
    std::map<std::string, int64_t> live;  // member -> partitions it holds
    for (const auto& [id, f] : foreign_) {
      if (member_slot(id) && !unrenewed(f, now)) live.emplace(f.owner, 0);
    }
    int64_t total = 0, mine = 0;
    for (const auto& [id, f] : foreign_) {
      auto it = live.find(f.owner);
      if (balanced(id) && it != live.end()) ++it->second, ++total;
    }
    for (const auto& [id, h] : held_) mine += balanced(id);
    total += mine;
    const int64_t members = static_cast<int64_t>(live.size()) + 1;
    const int64_t fair = (total + members - 1) / members;
    if (live.empty() || mine <= fair) return;
    auto least = live.begin();
    for (auto it = live.begin(); it != live.end(); ++it) {
      if (it->second < least->second) least = it;
    }
    if (least->second + 1 > fair) return;
    // The partition taken last (highest id among them: no better measure of which is cheapest).
    for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
      if (balanced(it->first)) {
        partition = it->first, epoch = it->second.epoch;
        break;
      }
    }
    to = least->first;
    held_.erase(partition);
    shedding_.insert(partition);
  }
  auto given = store_.hand_over(partition, owner_, epoch, to, ttl_);
  if (given && *given) {
    handed_over_.fetch_add(1);
    std::lock_guard lock(mu_);
    const TimePoint now = clock_.now();
    foreign_.insert_or_assign(partition, Foreign{to, (*given)->epoch, (*given)->expires_at, now, now});
  }
  // Dropped whatever the store answered: if the hand-over did not happen, the lease is still this
  // replica's in the store, and it is adopted again (loaded afresh) at the next read or request.
  if (callbacks_.lost) callbacks_.lost(partition);
  std::lock_guard lock(mu_);
  shedding_.erase(partition);
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
  keep_membership();
  bool read_due;
  {
    std::lock_guard lock(mu_);
    read_due = clock_.now() - foreign_read_ >= ttl_ / 3;
  }
  if (!read_due) return;
  const Read read = read_foreign();
  for (int64_t p : read.orphaned) (void)epoch_for(p);  // granted only if it expired
  for (int64_t p : read.given) (void)epoch_for(p);     // a renewal of this replica's own lease
  balance();
}

void LeaseKeeper::lose(int64_t partition) {
  {
    std::lock_guard lock(mu_);
    if (held_.erase(partition) == 0) return;
  }
  lost_.fetch_add(1);
  if (callbacks_.lost) callbacks_.lost(partition);
}

void LeaseKeeper::release_all() {
  std::map<int64_t, Held> held;
  {
    std::lock_guard lock(mu_);
    held.swap(held_);
    if (member_) held.emplace(member_->id, Held{member_->epoch, {}});
    member_.reset();
  }
  for (const auto& [partition, h] : held) (void)store_.release(partition, owner_, h.epoch);
}

int64_t LeaseKeeper::orphaned_seen() const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [id, f] : foreign_) {
    n += balanced(id) && unrenewed(f, foreign_read_);
  }
  return n;
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

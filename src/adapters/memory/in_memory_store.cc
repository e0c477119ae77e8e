#include "adapters/memory/in_memory_store.h"

#include <algorithm>
#include <set>

#include "ports/group_commit.h"

namespace pahlawan {

void InMemoryStore::commit(UnitOfWork unit, CommitDone done) {
  {
    std::unique_lock lock(mu_);
    if (pending_.size() >= max_queue_) {
      lock.unlock();
      return done(Status(ErrorCode::kUnavailable, "write queue is full"));
    }
    if (held_) {
      pending_.emplace_back(std::move(unit), std::move(done));
      return;
    }
  }
  decide(std::move(unit), std::move(done));
}

std::unique_ptr<InMemoryStore> InMemoryStore::reopened() const {
  std::lock_guard lock(mu_);
  auto s = std::make_unique<InMemoryStore>();
  s->surplus_ = surplus_;
  s->idempotency_ = idempotency_;
  s->providers_ = providers_;
  s->ngos_ = ngos_;
  s->credentials_ = credentials_;
  s->meta_ = meta_;
  s->cursors_ = cursors_;
  s->leases_ = leases_;
  s->outbox_ = outbox_;
  s->event_ids_ = event_ids_;
  s->last_seq_ = last_seq_;
  return s;
}

Result<std::optional<Lease>> InMemoryStore::acquire(int64_t partition, const std::string& owner, Millis ttl) {
  const TimePoint now = lease_clock_ ? lease_clock_->now() : SystemClock().now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = leases_.try_emplace(partition, Lease{partition, owner, 1, now + ttl});
  Lease& l = it->second;
  if (!fresh) {
    if (l.owner != owner && l.expires_at > now) return std::optional<Lease>();
    if (l.owner != owner) l.epoch += 1;
    l.owner = owner;
    l.expires_at = now + ttl;
  }
  return std::optional<Lease>(l);
}

Status InMemoryStore::release(int64_t partition, const std::string& owner, int64_t epoch) {
  const TimePoint now = lease_clock_ ? lease_clock_->now() : SystemClock().now();
  std::lock_guard lock(mu_);
  auto it = leases_.find(partition);
  if (it != leases_.end() && it->second.owner == owner && it->second.epoch == epoch) it->second.expires_at = now;
  return Status::ok();
}

Result<std::optional<Lease>> InMemoryStore::hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                                      const std::string& to, Millis ttl) {
  const TimePoint now = lease_clock_ ? lease_clock_->now() : SystemClock().now();
  std::lock_guard lock(mu_);
  auto it = leases_.find(partition);
  if (it == leases_.end() || it->second.owner != from || it->second.epoch != epoch) return std::optional<Lease>();
  it->second = Lease{partition, to, epoch + 1, now + ttl};
  return std::optional<Lease>(it->second);
}

Result<std::vector<Lease>> InMemoryStore::leases() {
  std::lock_guard lock(mu_);
  std::vector<Lease> out;
  for (const auto& [p, l] : leases_) out.push_back(l);
  return out;
}

size_t InMemoryStore::release() {
  size_t n = 0;
  for (;;) {
    std::pair<UnitOfWork, CommitDone> next;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) return n;
      next = std::move(pending_.front());
      pending_.pop_front();
    }
    decide(std::move(next.first), std::move(next.second));
    ++n;
  }
}

void InMemoryStore::decide(UnitOfWork unit, CommitDone done) {
  Status s;
  bool events = !unit.events.empty();
  {
    std::lock_guard lock(mu_);
    if (fail_next_ && !unit.empty()) {
      s = *fail_next_;
      fail_next_.reset();
    } else {
      // Every check before any change, so a failing unit leaves nothing behind (atomicity) without
      // copying the store per unit (which made long tests quadratic).
      s = check(unit);
      if (s) apply(unit);
    }
  }
  done(s);
  if (s && events && listener_) listener_();
}

Status InMemoryStore::check(const UnitOfWork& u) const {
  if (const auto& f = u.fence; f && !u.empty()) {
    const auto it = leases_.find(f->partition);
    if (it == leases_.end() || it->second.epoch != f->epoch) return UnitOfWork::lease_lost(*f);
  }
  if (const auto& b = u.budget) {
    // One unit at a time under the lock: the batch of one is checked like any store's.
    std::vector<CommitJob> one(1);
    one[0].unit.budget = b;
    std::vector<Status> results(1);
    std::vector<bool> skip(1, false);
    Status st = refuse_over_budget(one, results, skip, [this](const std::map<std::string, TimePoint>& since) {
      std::map<std::string, NgoHolding> out;
      for (const auto& [id, s] : surplus_) {
        if (s.status == SurplusStatus::kAvailable && s.offer && since.count(s.offer->ngo_id)) {
          ++out[s.offer->ngo_id].pending;
          out[s.offer->ngo_id].offered_kg += s.quantity_kg;
        }
        if (s.claimed_by && s.claimed_at && since.count(*s.claimed_by) && *s.claimed_at > since.at(*s.claimed_by)) {
          out[*s.claimed_by].claimed_kg += s.quantity_kg;
        }
      }
      return Result<std::map<std::string, NgoHolding>>(std::move(out));
    });
    if (!st) return st;
    if (!results[0]) return results[0];
  }
  std::set<std::string> inserted;
  for (const auto& x : u.inserts) {
    if (surplus_.count(x.id) || !inserted.insert(x.id).second) return {ErrorCode::kConflict, "duplicate id"};
  }
  // Updates apply in order: a unit may update an item twice (the second expecting the first's version).
  std::map<std::string, int64_t> version;
  for (const auto& up : u.updates) {
    auto v = version.find(up.after.id);
    int64_t current = -1;
    if (v != version.end()) {
      current = v->second;
    } else if (auto it = surplus_.find(up.after.id); it != surplus_.end()) {
      current = it->second.version;
    }
    if (current != up.expected_version) return {ErrorCode::kConflict, "stale version"};
    version[up.after.id] = up.after.version;
  }
  if (u.idempotency && idempotency_.count(u.idempotency->provider_id + '\n' + u.idempotency->key)) {
    return {ErrorCode::kConflict, "duplicate idempotency key"};
  }
  std::set<std::string> event_ids;
  for (const auto& e : u.events) {
    if (event_ids_.count(e.id) || !event_ids.insert(e.id).second) return {ErrorCode::kConflict, "duplicate event id"};
  }
  auto token_taken = [&](Role role, const std::string& hash) {
    return std::any_of(credentials_.begin(), credentials_.end(),
                       [&](const Credential& c) { return c.principal.role == role && c.token_hash == hash; });
  };
  if (u.provider && (providers_.count(u.provider->first.id) || token_taken(Role::kProvider, u.provider->second))) {
    return {ErrorCode::kConflict, "duplicate provider"};
  }
  if (u.ngo && (ngos_.count(u.ngo->ngo.id) || token_taken(Role::kNgo, u.ngo->token_hash))) {
    return {ErrorCode::kConflict, "duplicate ngo"};
  }
  if (u.token && token_taken(u.token->party.role, u.token->token_hash)) {
    return {ErrorCode::kConflict, "duplicate token"};
  }
  return Status::ok();
}

void InMemoryStore::apply(const UnitOfWork& u) {
  for (const auto& x : u.inserts) surplus_[x.id] = x;
  for (const auto& up : u.updates) surplus_[up.after.id] = up.after;
  if (u.idempotency) idempotency_[u.idempotency->provider_id + '\n' + u.idempotency->key] = *u.idempotency;
  for (auto e : u.events) {
    e.seq = ++last_seq_;
    event_ids_.insert(e.id);
    outbox_.push_back(std::move(e));
  }
  if (u.provider) {
    providers_[u.provider->first.id] = u.provider->first;
    credentials_.push_back(Credential{Principal{Role::kProvider, u.provider->first.id}, u.provider->second});
  }
  if (u.ngo) {
    ngos_[u.ngo->ngo.id] = u.ngo->ngo;
    credentials_.push_back(Credential{Principal{Role::kNgo, u.ngo->ngo.id}, u.ngo->token_hash});
  }
  if (const auto& t = u.token) {
    for (auto& c : credentials_) {
      if (c.principal.role == t->party.role && c.principal.id == t->party.id) c.token_hash = t->token_hash;
    }
  }
  for (const auto& [k, v] : u.meta) meta_[k] = v;
  if (u.cursor) cursors_[u.cursor->first] = std::max(cursors_[u.cursor->first], u.cursor->second);
  if (const auto& p = u.prune) {
    std::erase_if(idempotency_, [&](const auto& kv) { return kv.second.created_at < p->idempotency_before; });
    int64_t past = cursors_.empty() ? 0 : INT64_MAX;
    for (const auto& [name, seq] : cursors_) past = std::min(past, seq);
    if (!p->consumers.empty()) {  // only these count, a missing one as 0
      past = INT64_MAX;
      for (const auto& name : p->consumers) {
        auto it = cursors_.find(name);
        past = std::min(past, it == cursors_.end() ? int64_t{0} : it->second);
      }
    }
    std::erase_if(outbox_, [&](const Event& e) {
      const bool gone = e.seq <= past && e.occurred_at < p->outbox_before;
      if (gone) event_ids_.erase(e.id);
      return gone;
    });
  }
}

Result<std::optional<Surplus>> InMemoryStore::find_surplus(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = surplus_.find(id);
  return it == surplus_.end() ? std::optional<Surplus>() : std::optional<Surplus>(it->second);
}

Result<std::vector<Surplus>> InMemoryStore::load_open_surplus() {
  std::lock_guard lock(mu_);
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.is_open()) out.push_back(s);
  }
  return out;
}

Result<std::vector<Surplus>> InMemoryStore::load_open_surplus_in(CellRange cells, uint64_t /*region*/) {
  std::lock_guard lock(mu_);
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.is_open() && s.cell >= cells.first && s.cell <= cells.last) out.push_back(s);
  }
  return out;
}

Result<std::vector<Surplus>> InMemoryStore::find_available_near(const BrowseArea& area, TimePoint created_before,
                                                                TimePoint now,
                                                                const std::optional<std::string>& category, int limit) {
  std::lock_guard lock(mu_);
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.status == SurplusStatus::kAvailable && s.created_at < created_before && s.expires_at > now &&
        (!category || s.category == *category)) {
      out.push_back(s);
    }
  }
  keep_nearest(out, area.lat, area.lon, area.radius_m, limit);
  return out;
}

Result<std::optional<IdempotencyRecord>> InMemoryStore::find_idempotency(const std::string& provider_id,
                                                                         const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = idempotency_.find(provider_id + '\n' + key);
  return it == idempotency_.end() ? std::optional<IdempotencyRecord>() : std::optional<IdempotencyRecord>(it->second);
}

Result<std::vector<Surplus>> InMemoryStore::find_offers_for(const std::string& ngo_id) {
  std::lock_guard lock(mu_);
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.status == SurplusStatus::kAvailable && s.offer && s.offer->ngo_id == ngo_id) out.push_back(s);
  }
  return out;
}

Result<std::vector<Surplus>> InMemoryStore::find_dead_letters(const std::optional<DlqPosition>& after, int limit) {
  std::lock_guard lock(mu_);
  if (failing_dlq_reads_ > 0) {
    --failing_dlq_reads_;
    return Status(ErrorCode::kUnavailable, "dlq read failed (injected)");
  }
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.status != SurplusStatus::kAvailable || !s.dead_lettered) continue;
    const TimePoint at = s.dlq_at.value_or(TimePoint{});
    if (after && (at < after->at || (at == after->at && s.id <= after->id))) continue;
    out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const Surplus& a, const Surplus& b) {
    return std::make_pair(a.dlq_at.value_or(TimePoint{}), a.id) < std::make_pair(b.dlq_at.value_or(TimePoint{}), b.id);
  });
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
  return out;
}

Result<std::vector<Surplus>> InMemoryStore::find_claimed_since(TimePoint since) {
  std::lock_guard lock(mu_);
  std::vector<Surplus> out;
  for (const auto& [id, s] : surplus_) {
    if (s.claimed_by && s.claimed_at && *s.claimed_at >= since) out.push_back(s);
  }
  return out;
}

Result<std::vector<Ngo>> InMemoryStore::load_ngos() {
  std::lock_guard lock(mu_);
  std::vector<Ngo> out;
  for (const auto& [id, n] : ngos_) out.push_back(n);
  return out;
}

Result<std::vector<Credential>> InMemoryStore::load_credentials() {
  std::lock_guard lock(mu_);
  return credentials_;
}

Result<std::optional<Credential>> InMemoryStore::find_credential(Role role, const std::string& id) {
  std::lock_guard lock(mu_);
  for (const auto& c : credentials_) {
    if (c.principal.role == role && c.principal.id == id) return std::optional<Credential>(c);
  }
  return std::optional<Credential>();
}

Result<std::optional<Provider>> InMemoryStore::find_provider(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = providers_.find(id);
  return it == providers_.end() ? std::optional<Provider>() : std::optional<Provider>(it->second);
}

Result<std::optional<Ngo>> InMemoryStore::find_ngo(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = ngos_.find(id);
  return it == ngos_.end() ? std::optional<Ngo>() : std::optional<Ngo>(it->second);
}

Result<std::optional<std::string>> InMemoryStore::get_meta(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = meta_.find(key);
  return it == meta_.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
}

Result<std::vector<Event>> InMemoryStore::read_outbox(int64_t after_seq, int limit) {
  std::lock_guard lock(mu_);
  if (failing_reads_ > 0) {
    --failing_reads_;
    return Status(ErrorCode::kUnavailable, "outbox read failed (injected)");
  }
  // The outbox is in seq order (appended; retention erases in place): start at the first one after.
  auto it = std::upper_bound(outbox_.begin(), outbox_.end(), after_seq,
                             [](int64_t seq, const Event& e) { return seq < e.seq; });
  std::vector<Event> out;
  for (; it != outbox_.end() && static_cast<int>(out.size()) < limit; ++it) out.push_back(*it);
  return out;
}

Result<std::vector<Event>> InMemoryStore::read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                                          int limit) {
  std::lock_guard lock(mu_);
  std::optional<int64_t> after;
  for (const auto& e : outbox_) {
    if (e.id == after_event_id) after = e.seq;
  }
  std::vector<Event> out;
  if (after) {
    for (const auto& e : outbox_) {
      if (e.seq > *after && e.recipient == ngo_id && static_cast<int>(out.size()) < limit) out.push_back(e);
    }
    return out;
  }
  // Unknown id: the latest offer of each item whose pending offer is for this NGO.
  std::map<std::string, const Event*> latest;
  for (const auto& e : outbox_) {
    if (e.recipient != ngo_id) continue;
    auto s = surplus_.find(e.surplus_id);
    if (s != surplus_.end() && s->second.status == SurplusStatus::kAvailable && s->second.offer &&
        s->second.offer->ngo_id == ngo_id) {
      latest[e.surplus_id] = &e;
    }
  }
  for (const auto& [id, e] : latest) out.push_back(*e);
  std::sort(out.begin(), out.end(), [](const Event& a, const Event& b) { return a.seq < b.seq; });
  if (static_cast<int>(out.size()) > limit) out.resize(static_cast<size_t>(limit));
  return out;
}

Result<int64_t> InMemoryStore::last_outbox_seq() {
  std::lock_guard lock(mu_);
  return last_seq_;
}

Result<int64_t> InMemoryStore::load_cursor(const std::string& consumer) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(consumer);
  return it == cursors_.end() ? int64_t{0} : it->second;
}

std::vector<Event> InMemoryStore::events() const {
  std::lock_guard lock(mu_);
  return outbox_;
}

}  // namespace pahlawan

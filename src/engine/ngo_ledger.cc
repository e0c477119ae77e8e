#include "engine/ngo_ledger.h"

#include <algorithm>

namespace pahlawan {

NgoLoad NgoLedger::load_locked(Entry& e) {
  const TimePoint horizon = clock_.now() - std::chrono::hours(24);
  while (!e.claims.empty() && e.claims.front().at < horizon) {
    claimer_of_.erase(e.claims.front().surplus_id);
    e.claims.pop_front();
  }
  double claimed = 0;
  for (const auto& c : e.claims) claimed += c.kg;
  return NgoLoad{claimed + e.reserved_kg, e.pending};
}

void NgoLedger::prune_locked() {
  const TimePoint horizon = clock_.now() - std::chrono::hours(24);
  while (!claim_times_.empty() && claim_times_.top().first < horizon) {
    const std::string ngo = claim_times_.top().second;
    claim_times_.pop();
    auto it = entries_.find(ngo);
    if (it == entries_.end()) continue;
    load_locked(it->second);
    if (it->second.claims.empty() && it->second.pending == 0) entries_.erase(it);
  }
}

size_t NgoLedger::items_held() {
  std::lock_guard lock(mu_);
  prune_locked();
  return reservations_.size() + claimer_of_.size();
}

NgoLoad NgoLedger::load(const std::string& ngo_id) {
  std::lock_guard lock(mu_);
  prune_locked();
  return load_locked(entries_[ngo_id]);
}

bool NgoLedger::try_reserve(const Ngo& ngo, const std::string& surplus_id, double kg, int max_pending) {
  std::vector<std::string> freed;
  {
    std::lock_guard lock(mu_);
    if (auto it = reservations_.find(surplus_id); it != reservations_.end() && it->second.ngo_id == ngo.id) return true;
    Entry& e = entries_[ngo.id];
    const NgoLoad now = load_locked(e);
    if (now.pending_offers >= max_pending) return false;
    if (ngo.capacity_kg && now.committed_kg_24h + kg > *ngo.capacity_kg) return false;
    reserve_locked(ngo.id, surplus_id, kg);
    freed.swap(freed_);
  }
  notify(std::move(freed));
  return true;
}

void NgoLedger::force_reserve(const std::string& ngo_id, const std::string& surplus_id, double kg) {
  std::vector<std::string> freed;
  {
    std::lock_guard lock(mu_);
    reserve_locked(ngo_id, surplus_id, kg);
    freed.swap(freed_);
  }
  notify(std::move(freed));
}

void NgoLedger::release(const std::string& surplus_id) {
  std::vector<std::string> freed;
  {
    std::lock_guard lock(mu_);
    release_locked(surplus_id);
    freed.swap(freed_);
  }
  notify(std::move(freed));
}

void NgoLedger::notify(std::vector<std::string> freed) {
  if (!slot_freed_) return;
  for (const auto& ngo_id : freed) slot_freed_(ngo_id);
}

void NgoLedger::reserve_locked(const std::string& ngo_id, const std::string& surplus_id, double kg) {
  release_locked(surplus_id);  // one pending offer per item
  // Moved from this NGO to this NGO (a restart's or a reload's word): no slot freed.
  if (!freed_.empty() && freed_.back() == ngo_id) freed_.pop_back();
  Entry& e = entries_[ngo_id];
  e.reserved_kg += kg;
  e.pending += 1;
  reservations_.emplace(surplus_id, Reservation{ngo_id, kg});
}

void NgoLedger::release_locked(const std::string& surplus_id) {
  auto it = reservations_.find(surplus_id);
  if (it == reservations_.end()) return;
  Entry& e = entries_[it->second.ngo_id];
  e.reserved_kg = std::max(0.0, e.reserved_kg - it->second.kg);
  e.pending -= 1;
  freed_.push_back(it->second.ngo_id);
  reservations_.erase(it);
}

void NgoLedger::record_claim(const std::string& ngo_id, const std::string& surplus_id, double kg, TimePoint at) {
  std::lock_guard lock(mu_);
  prune_locked();
  if (!claimer_of_.emplace(surplus_id, ngo_id).second) return;
  claim_times_.emplace(at, ngo_id);
  auto& claims = entries_[ngo_id].claims;
  // Kept in time order so that expiring the oldest is a pop from the front.
  auto pos =
      std::upper_bound(claims.begin(), claims.end(), at, [](TimePoint t, const Entry::Claim& c) { return t < c.at; });
  claims.insert(pos, Entry::Claim{at, kg, surplus_id});
}

void NgoLedger::forget_claim(const std::string& surplus_id) {
  std::lock_guard lock(mu_);
  auto it = claimer_of_.find(surplus_id);
  if (it == claimer_of_.end()) return;
  auto& claims = entries_[it->second].claims;
  std::erase_if(claims, [&](const Entry::Claim& c) { return c.surplus_id == surplus_id; });
  claimer_of_.erase(it);
}

void NgoLedger::follow(const Surplus& s) {
  if (s.status == SurplusStatus::kAvailable && s.offer) {
    force_reserve(s.offer->ngo_id, s.id, s.quantity_kg);
  } else {
    release(s.id);
  }
  if (s.claimed_by) {
    record_claim(*s.claimed_by, s.id, s.quantity_kg, s.claimed_at.value_or(s.created_at));
  } else {
    forget_claim(s.id);
  }
}

}  // namespace pahlawan

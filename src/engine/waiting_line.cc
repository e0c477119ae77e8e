#include "engine/waiting_line.h"

#include <algorithm>
#include <iterator>

#include "domain/geo.h"

namespace pahlawan {

WaitingLine::WaitingLine(NgoDirectory& directory, NgoLedger& ledger, MatchPolicy policy, const Clock& clock,
                         MetricsRegistry* metrics)
    : directory_(directory), ledger_(ledger), policy_(policy), clock_(clock) {
  if (metrics) {
    waited_ = &metrics->histogram("surplus_waiting_seconds",
                                  "Time an item waited in line for an NGO slot, counted when it left the line",
                                  {1, 5, 15, 30, 60, 120, 300, 600, 900, 1800});
  }
}

WaitingLine::Region& WaitingLine::region(uint64_t id) {
  if (Region* r = find_region(id)) return *r;
  std::unique_lock lock(regions_mu_);
  auto& slot = regions_[id];
  if (!slot) slot = std::make_unique<Region>();
  return *slot;
}

WaitingLine::Region* WaitingLine::find_region(uint64_t id) const {
  std::shared_lock lock(regions_mu_);
  auto it = regions_.find(id);
  return it == regions_.end() ? nullptr : it->second.get();
}

void WaitingLine::add(const Surplus& s) {
  Region& r = region(cell_id_at(s.lat, s.lon, kRegionLevel));
  std::lock_guard lock(r.mu);
  auto it = r.entries.find(s.id);
  if (it != r.entries.end()) {
    r.order.erase(key_of(*it->second.item));
    r.entries.erase(it);
  }
  r.order.insert(key_of(s));
  r.entries.emplace(s.id, Entry{std::make_shared<const Surplus>(s), {s.offered_to.begin(), s.offered_to.end()}});
}

void WaitingLine::remove(const Surplus& s) {
  Region* r = find_region(cell_id_at(s.lat, s.lon, kRegionLevel));
  if (!r) return;
  std::lock_guard lock(r->mu);
  auto it = r->entries.find(s.id);
  if (it == r->entries.end()) return;
  r->order.erase(key_of(*it->second.item));
  r->entries.erase(it);
}

void WaitingLine::left(const Surplus& before) {
  if (waited_ && before.waiting_since) {
    waited_->observe(std::chrono::duration<double>(clock_.now() - *before.waiting_since).count());
  }
  remove(before);
}

void WaitingLine::slot_freed(const std::string& ngo_id) {
  const auto ngo = directory_.find(ngo_id);
  if (!ngo) return;
  // The most urgent item this NGO could take, over the regions its radius touches (usually one).
  std::optional<std::pair<Key, uint64_t>> best;  // key, region
  std::shared_ptr<const Surplus> chosen;
  for (uint64_t rid : covering_cells(ngo->lat, ngo->lon, policy_.radius_m, kRegionLevel)) {
    Region* r = find_region(rid);
    if (!r) continue;
    // Loaded under the region's lock (the ledger's lock nests inside it, never around it), so a
    // slot taken again meanwhile is seen.
    std::lock_guard lock(r->mu);
    if (r->order.empty()) continue;
    const NgoLoad load = ledger_.load(ngo->id);
    if (load.pending_offers >= policy_.max_pending_offers) return;  // the slot is taken again
    for (const Key& k : r->order) {
      if (best && k >= best->first) break;  // nothing here beats what another region offers
      const Entry& e = r->entries.at(std::get<2>(k));
      const Surplus& s = *e.item;
      const double d = haversine_m(s.lat, s.lon, ngo->lat, ngo->lon);
      if (check_eligibility(*ngo, load, s, d, e.offered, policy_)) continue;
      best = std::make_pair(k, rid);
      chosen = e.item;
      break;
    }
  }
  if (!best) return;
  // Taken out of the line before its actor decides, so a second freed slot picks the next item; the
  // actor puts it back if it still cannot be offered. Gone meanwhile (its actor removed it): nothing.
  Region& r = *find_region(best->second);
  {
    std::lock_guard lock(r.mu);
    auto it = r.entries.find(chosen->id);
    if (it == r.entries.end() || it->second.item != chosen) return;
    r.order.erase(best->first);
    r.entries.erase(it);
  }
  if (dispatch_) dispatch_(chosen->cell, chosen->id, chosen->version, ngo->id);
}

std::vector<Surplus> WaitingLine::list(const std::optional<std::string>& region_token, size_t limit) const {
  std::vector<uint64_t> ids;
  {
    std::shared_lock lock(regions_mu_);
    for (const auto& [rid, r] : regions_) {
      if (!region_token || cell_token(rid) == *region_token) ids.push_back(rid);
    }
  }
  // Each region's most urgent `limit`, then the most urgent `limit` of those.
  std::vector<Surplus> all;
  for (uint64_t rid : ids) {
    auto part = list_region(rid, limit);
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::sort(all.begin(), all.end(), [](const Surplus& a, const Surplus& b) { return key_of(a) < key_of(b); });
  if (all.size() > limit) all.resize(limit);
  return all;
}

std::vector<Surplus> WaitingLine::list_region(uint64_t region, size_t limit) const {
  std::vector<Surplus> out;
  Region* r = find_region(region);
  if (!r) return out;
  std::lock_guard lock(r->mu);
  for (const Key& k : r->order) {
    if (out.size() == limit) break;
    out.push_back(*r->entries.at(std::get<2>(k)).item);
  }
  return out;
}

size_t WaitingLine::region_size(uint64_t region) const {
  Region* r = find_region(region);
  if (!r) return 0;
  std::lock_guard lock(r->mu);
  return r->entries.size();
}

size_t WaitingLine::size() const {
  size_t n = 0;
  std::shared_lock lock(regions_mu_);
  for (const auto& [rid, r] : regions_) {
    std::lock_guard rlock(r->mu);
    n += r->entries.size();
  }
  return n;
}

std::vector<std::pair<std::string, size_t>> WaitingLine::size_by_region() const {
  std::vector<std::pair<std::string, size_t>> out;
  std::shared_lock lock(regions_mu_);
  for (const auto& [rid, r] : regions_) {
    std::lock_guard rlock(r->mu);
    out.emplace_back(cell_token(rid), r->entries.size());
  }
  return out;
}

}  // namespace pahlawan

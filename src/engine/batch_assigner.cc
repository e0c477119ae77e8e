#include "engine/batch_assigner.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "domain/geo.h"
#include "engine/assignment_solver.h"

namespace pahlawan {

BatchAssigner::BatchAssigner(Millis window, NgoDirectory& directory, NgoLedger& ledger, const WaitingLine* line,
                             DeadlineQueue& deadlines, MatchPolicy policy, const Clock& clock, int candidates,
                             size_t max_waiting_per_window)
    : window_(window),
      directory_(directory),
      ledger_(ledger),
      line_(line),
      deadlines_(deadlines),
      policy_(policy),
      clock_(clock),
      candidates_(candidates),
      max_waiting_(max_waiting_per_window) {}

void BatchAssigner::open_locked(uint64_t region) {
  auto [it, fresh] = open_.try_emplace(region);
  if (fresh) deadlines_.push(Deadline{clock_.now() + window_, "", region, DeadlineKind::kWindow});
}

void BatchAssigner::enqueue(const Surplus& s) {
  const uint64_t region = cell_id_at(s.lat, s.lon, kRegionLevel);
  std::lock_guard lock(mu_);
  open_locked(region);
  open_[region].insert_or_assign(s.id, s);
}

void BatchAssigner::slot_freed(const std::string& ngo_id) {
  const auto ngo = directory_.find(ngo_id);
  if (!ngo || !line_) return;
  for (uint64_t region : covering_cells(ngo->lat, ngo->lon, policy_.radius_m, kRegionLevel)) {
    if (line_->region_size(region) == 0) continue;
    std::lock_guard lock(mu_);
    open_locked(region);
  }
}

size_t BatchAssigner::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

void BatchAssigner::close(uint64_t region) {
  std::map<std::string, Surplus> asked;
  {
    std::lock_guard lock(mu_);
    auto it = open_.find(region);
    if (it == open_.end()) return;
    asked = std::move(it->second);
    open_.erase(it);
    ++batches_;
  }
  // The items: those that asked (in id order, so a run is reproducible), then the most urgent of the
  // region's line that did not ask again.
  std::vector<Surplus> items;
  std::vector<bool> waiting;
  for (auto& [id, s] : asked) {
    items.push_back(std::move(s));
    waiting.push_back(false);
  }
  if (line_) {
    for (auto& s : line_->list_region(region, max_waiting_)) {
      if (asked.count(s.id)) continue;
      items.push_back(std::move(s));
      waiting.push_back(true);
    }
  }
  // Their options: the nearest NGOs that may take them, but for the notification cap, which the free
  // slots express.
  std::vector<std::vector<AssignOption>> options(items.size());
  std::vector<int> slots;
  std::vector<std::shared_ptr<const Ngo>> ngos;
  std::unordered_map<std::string, size_t> index;
  std::unordered_map<std::string, NgoLoad> loads;
  for (size_t i = 0; i < items.size(); ++i) {
    const Surplus& s = items[i];
    if (static_cast<int>(s.offered_to.size()) >= policy_.max_attempts) continue;  // the greedy path DLQs it
    const std::set<std::string> offered(s.offered_to.begin(), s.offered_to.end());
    for (const auto& near : directory_.near(s.lat, s.lon, policy_.radius_m, candidates_)) {
      const Ngo& n = *near.ngo;
      auto [load, fresh] = loads.try_emplace(n.id);
      if (fresh) load->second = ledger_.load(n.id);
      NgoLoad without_cap = load->second;
      without_cap.pending_offers = 0;
      if (check_eligibility(n, without_cap, s, near.distance_m, offered, policy_)) continue;
      const int free = policy_.max_pending_offers - load->second.pending_offers;
      if (free <= 0) continue;
      auto [pos, added] = index.try_emplace(n.id, ngos.size());
      if (added) {
        ngos.push_back(near.ngo);
        slots.push_back(free);
      }
      options[i].push_back(AssignOption{pos->second, std::llround(near.distance_m)});
    }
  }
  const auto assigned = solve_assignment(options, slots);
  if (!dispatch_) return;
  for (size_t i = 0; i < items.size(); ++i) {
    const Surplus& s = items[i];
    if (assigned[i]) {
      dispatch_(s.cell, s.id, s.version, ngos[*assigned[i]]->id);
    } else if (!waiting[i]) {
      dispatch_(s.cell, s.id, s.version, std::nullopt);  // matched greedily now: offered, waits or DLQ
    }                                                    // a waiting item left without an NGO stays in line
  }
}

}  // namespace pahlawan

#include "engine/dlq_census.h"

#include "common/thread_name.h"
#include "domain/geo.h"

namespace pahlawan {

DlqCensus::DlqCensus(Store& store, const Clock& clock, std::chrono::milliseconds interval, int page)
    : store_(store), clock_(clock), interval_(interval), page_(page) {}

DlqCensus::~DlqCensus() {
  stop();
}

Status DlqCensus::count() {
  const TimePoint now = clock_.now();
  std::map<std::string, size_t> counted;
  std::optional<Store::DlqPosition> after;
  for (;;) {
    auto items = store_.find_dead_letters(after, page_);
    if (!items) return items.status();
    for (const Surplus& s : *items) {
      if (s.expires_at > now) ++counted[region_token(s.lat, s.lon)];
    }
    if (static_cast<int>(items->size()) < page_) break;
    const Surplus& last = items->back();
    after = Store::DlqPosition{last.dlq_at.value_or(TimePoint{}), last.id};
  }
  std::lock_guard lock(mu_);
  for (auto& [region, n] : counts_) n = 0;
  for (const auto& [region, n] : counted) counts_[region] = n;
  return Status::ok();
}

std::vector<std::pair<std::string, size_t>> DlqCensus::by_region() const {
  std::lock_guard lock(mu_);
  return {counts_.begin(), counts_.end()};
}

void DlqCensus::start() {
  thread_ = std::thread([this] {
    name_this_thread("pp-dlq-census");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      (void)count();  // a failure keeps the last count; the next round tries again
      lock.lock();
      // Real time between counts: what is counted is decided by the store and the injected clock.
      cv_.wait_for(lock, interval_, [&] { return stopping_ || nudged_; });
      nudged_ = false;
    }
  });
}

void DlqCensus::nudge() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  cv_.notify_all();
}

void DlqCensus::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pahlawan

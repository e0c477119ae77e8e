#include "engine/expiry_scheduler.h"
#include "common/thread_name.h"

namespace pahlawan {

ExpiryScheduler::ExpiryScheduler(DeadlineQueue& queue, ShardRouter& router, const Clock& clock)
    : queue_(queue), router_(router), clock_(clock) {
  queue_.on_new_earliest([this] { rearm(); });
}

ExpiryScheduler::~ExpiryScheduler() {
  stop();
}

size_t ExpiryScheduler::run_due() {
  const TimePoint now = clock_.now();
  auto due = queue_.pop_due(now);
  for (auto& d : due) {
    if (d.kind == DeadlineKind::kCool) {
      router_.actor_for_cell(d.cell)->cool(std::move(d.surplus_id));
      continue;
    }
    if (d.kind == DeadlineKind::kOffer) {
      router_.actor_for_cell(d.cell)->offer_lapsed(std::move(d.surplus_id));
      continue;
    }
    if (d.kind == DeadlineKind::kWindow) {
      router_.close_window(d.cell);
      continue;
    }
    if (d.kind == DeadlineKind::kMatch) {
      router_.actor_for_cell(d.cell)->match(std::move(d.surplus_id), false);
      continue;
    }
    router_.actor_for_cell(d.cell)->mutate(
        d.surplus_id, "",
        [now](const Surplus& s) -> Result<Decision> {
          auto d = decide_expire(s, now);
          if (!d) return Decision{s, false, nullptr};
          return std::move(*d);
        },
        [](Result<Surplus>) {});
  }
  return due.size();
}

void ExpiryScheduler::start() {
  thread_ = std::thread([this] {
    name_this_thread("pp-expiry");
    run();
  });
}

void ExpiryScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ExpiryScheduler::rearm() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

void ExpiryScheduler::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto next = queue_.next();
    if (!next) {
      cv_.wait(lock, [&] { return stopping_ || poked_; });
    } else {
      const auto wait = *next - clock_.now();
      if (wait > Millis(0)) cv_.wait_for(lock, wait, [&] { return stopping_ || poked_; });
    }
    poked_ = false;
    if (stopping_) break;
    lock.unlock();
    run_due();
    lock.lock();
  }
}

}  // namespace pahlawan

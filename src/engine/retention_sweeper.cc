#include "engine/retention_sweeper.h"

#include <algorithm>

#include "common/thread_name.h"

namespace pahlawan {

RetentionSweeper::RetentionSweeper(Store& store, const Clock& clock, RetentionOptions options)
    : store_(store), clock_(clock), options_(options) {}

RetentionSweeper::~RetentionSweeper() {
  stop();
}

void RetentionSweeper::sweep(CommitDone done) {
  const TimePoint now = clock_.now();
  UnitOfWork unit;
  unit.prune = UnitOfWork::Prune{now - std::max<Millis>(options_.idempotency, std::chrono::hours(24)),
                                 now - options_.outbox, options_.max_rows, options_.consumers};
  store_.commit(std::move(unit), std::move(done));
}

void RetentionSweeper::start() {
  thread_ = std::thread([this] {
    name_this_thread("pp-retention");
    std::unique_lock lock(mu_);
    while (!stopping_) {
      // Real time between sweeps is fine here: what is deleted is decided by the injected clock.
      if (cv_.wait_for(lock, options_.interval, [&] { return stopping_; })) break;
      lock.unlock();
      sweep();
      lock.lock();
    }
  });
}

void RetentionSweeper::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace pahlawan

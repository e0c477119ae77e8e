// RetentionSweeper: keeps the store from growing forever. Every `interval` it commits one unit that
// deletes idempotency records older than `idempotency` (at least 24 hours: a provider's retry of a
// post within a day must find its key) and outbox events older than `outbox` that every consumer
// has passed. Surplus rows are history and stay. The event journal rotates by itself (see
// FileEventJournal).
// Thread-safety: start/stop from one thread; sweep() from any (the sweeper's thread calls it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "ports/store.h"

namespace pahlawan {

struct RetentionOptions {
  Millis idempotency = std::chrono::hours(24);
  Millis outbox = std::chrono::hours(24);
  std::chrono::milliseconds interval = std::chrono::minutes(1);
  int max_rows = 20000;  // per table per sweep
  // The consumers whose cursors hold outbox rows back; empty: every cursor in the store.
  std::vector<std::string> consumers;
};

class RetentionSweeper {
 public:
  RetentionSweeper(Store& store, const Clock& clock, RetentionOptions options);
  ~RetentionSweeper();
  void start();
  void stop();
  // One sweep; `done` gets the commit's outcome (a failure is retried at the next sweep).
  void sweep(CommitDone done = [](Status) {});

 private:
  Store& store_;
  const Clock& clock_;
  const RetentionOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pahlawan

// ExpiryScheduler: acts on due deadlines through the items' shard actors — turns items whose
// expires_at has passed into `expired`, and moves items older than the hot window out of the index.
//
// run_due() expires everything due at clock.now(); tests call it after advancing a fake clock.
// start() runs a timer thread that sleeps until the earliest deadline (re-armed when an earlier one
// arrives) and then calls run_due(): no table scans, no polling. Thread-safe.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "engine/deadline_queue.h"
#include "engine/shard_router.h"

namespace pahlawan {

class ExpiryScheduler {
 public:
  ExpiryScheduler(DeadlineQueue& queue, ShardRouter& router, const Clock& clock);
  ~ExpiryScheduler();

  size_t run_due();
  void start();
  void stop();
  // Wakes the timer thread to re-read the earliest deadline (call after pushing an earlier one).
  void rearm();

 private:
  void run();
  DeadlineQueue& queue_;
  ShardRouter& router_;
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool poked_ = false;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pahlawan

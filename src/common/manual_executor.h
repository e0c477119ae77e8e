// ManualExecutor: queues tasks until its owner runs them, so actor interleavings are deterministic —
// for the unit tests and the city simulator, which drive the engine on one thread.
#pragma once

#include <deque>
#include <mutex>

#include "common/executor.h"

namespace pahlawan {

class ManualExecutor final : public Executor {
 public:
  void post(Task task) override {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  // Runs tasks (including ones posted meanwhile) until none is left; returns how many ran.
  size_t run_all() {
    size_t n = 0;
    for (;;) {
      Task t;
      {
        std::lock_guard lock(mu_);
        if (queue_.empty()) return n;
        t = std::move(queue_.front());
        queue_.pop_front();
      }
      t();
      ++n;
    }
  }

 private:
  std::mutex mu_;
  std::deque<Task> queue_;
};

}  // namespace pahlawan

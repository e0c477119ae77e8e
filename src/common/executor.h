// Executors: where work runs.
//
// ThreadPool runs tasks on a few threads (one per core). SerialExecutor is a mailbox on top of another
// executor: its tasks run one at a time, in post order, never two at once, on whichever pool thread
// picks it up — the shard actors are SerialExecutors, so thousands of them cost a queue each, not a
// thread each. post() is the only way in and is safe from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/unique_function.h"

namespace pahlawan {

class Executor {
 public:
  virtual ~Executor() = default;
  virtual void post(Task task) = 0;
};

class ThreadPool final : public Executor {
 public:
  explicit ThreadPool(unsigned threads);
  ~ThreadPool() override;  // runs what is queued, then joins
  void post(Task task) override;
  void stop();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;   // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

class SerialExecutor final : public Executor {
 public:
  explicit SerialExecutor(Executor& target) : target_(target) {}
  void post(Task task) override;
  // Nothing queued and no drain running or scheduled: the executor will not touch itself again until
  // the next post.
  bool idle() const;
  // Drops the tasks not yet run (at shutdown, once nothing runs them any more): a task may hold a
  // reference to the executor's owner, and a queue that keeps its owner alive would never be freed.
  void discard_pending();

 private:
  void drain();
  Executor& target_;
  mutable std::mutex mu_;
  std::deque<Task> queue_;  // GUARDED_BY(mu_)
  bool scheduled_ = false;  // GUARDED_BY(mu_): a drain() is queued on or running in target_
};

}  // namespace pahlawan

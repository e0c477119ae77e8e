#include "common/executor.h"

namespace pahlawan {

ThreadPool::ThreadPool(unsigned threads) {
  if (threads == 0) threads = 1;
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

ThreadPool::~ThreadPool() {
  stop();
}

void ThreadPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void ThreadPool::post(Task task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void ThreadPool::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

void SerialExecutor::post(Task task) {
  bool schedule = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(task));
    if (!scheduled_) scheduled_ = schedule = true;
  }
  if (schedule) target_.post([this] { drain(); });
}

bool SerialExecutor::idle() const {
  std::lock_guard lock(mu_);
  return !scheduled_;
}

void SerialExecutor::discard_pending() {
  std::deque<Task> dropped;
  {
    std::lock_guard lock(mu_);
    dropped.swap(queue_);
  }
}  // destroyed here, outside the lock

void SerialExecutor::drain() {
  // Run a bounded batch, then yield the pool thread so one busy actor cannot starve the others.
  for (int i = 0; i < 64; ++i) {
    Task task;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) {
        scheduled_ = false;
        return;
      }
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
  target_.post([this] { drain(); });
}

}  // namespace pahlawan

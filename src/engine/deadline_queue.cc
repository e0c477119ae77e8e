#include "engine/deadline_queue.h"

namespace pahlawan {

bool DeadlineQueue::push(Deadline d) {
  bool earliest;
  {
    std::lock_guard lock(mu_);
    earliest = heap_.empty() || d.at < heap_.top().at;
    heap_.push(std::move(d));
  }
  if (earliest && listener_) listener_();
  return earliest;
}

std::vector<Deadline> DeadlineQueue::pop_due(TimePoint now) {
  std::vector<Deadline> due;
  std::lock_guard lock(mu_);
  while (!heap_.empty() && heap_.top().at <= now) {
    due.push_back(heap_.top());
    heap_.pop();
  }
  return due;
}

std::optional<TimePoint> DeadlineQueue::next() const {
  std::lock_guard lock(mu_);
  if (heap_.empty()) return std::nullopt;
  return heap_.top().at;
}

size_t DeadlineQueue::size() const {
  std::lock_guard lock(mu_);
  return heap_.size();
}

}  // namespace pahlawan

#include "engine/outbox_relay.h"
#include "common/fault.h"
#include "common/log.h"
#include "common/thread_name.h"

#include <cstdio>

namespace pahlawan {

OutboxRelay::OutboxRelay(Store& store, EventBus& bus, std::string consumer, int batch, int save_every,
                         std::chrono::milliseconds retry_after)
    : store_(store),
      bus_(bus),
      consumer_(std::move(consumer)),
      batch_(batch),
      save_every_(save_every),
      retry_after_(retry_after) {}

OutboxRelay::~OutboxRelay() {
  stop();
}

Status OutboxRelay::start() {
  auto cursor = store_.load_cursor(consumer_);
  if (!cursor) return cursor.status();
  position_ = *cursor;
  saved_ = *cursor;
  thread_ = std::thread([this] {
    name_this_thread("pp-relay");
    run();
  });
  return Status::ok();
}

void OutboxRelay::notify() {
  {
    std::lock_guard lock(mu_);
    pending_ = true;
  }
  cv_.notify_one();
}

void OutboxRelay::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  save_position();
}

Result<size_t> OutboxRelay::run_once() {
  if (gate_) {
    if (!gate_()) {
      oldest_unpublished_ms_ = 0;  // not this replica's to publish
      head_ = position_.load();
      if (!gated_out_) save_position();  // where the next holder resumes
      gated_out_ = true;
      return size_t{0};
    }
    if (gated_out_) {
      // Another process held the relay meanwhile: its saved cursor is where this one resumes.
      auto cursor = store_.load_cursor(consumer_);
      if (!cursor) return cursor.status();
      position_ = *cursor;
      saved_ = *cursor;
      gated_out_ = false;
    }
  }
  auto events = store_.read_outbox(position_, batch_);
  if (!events) return events.status();
  if (events->empty()) {
    oldest_unpublished_ms_ = 0;
    head_ = position_.load();
    return size_t{0};
  }
  oldest_unpublished_ms_ = to_unix_ms(events->front().occurred_at);
  // How far the outbox runs past this batch is only worth a read when the batch came back full.
  int64_t head = events->back().seq;
  if (events->size() == static_cast<size_t>(batch_)) {
    if (auto last = store_.last_outbox_seq(); last && *last > head) head = *last;
  }
  head_ = head;
  for (const auto& e : *events) bus_.publish(e);
  // A bus that could not confirm the batch: the position stays, and the batch goes again later.
  if (Status flushed = bus_.flush(); !flushed) return flushed;
  // Crash here: the subscribers have the events, the cursor does not say so; after a restart they are
  // delivered again and each subscriber must absorb the replay.
  (void)PP_FAULT("relay.after_publish_before_cursor");
  position_ = events->back().seq;
  if (position_ - saved_ >= save_every_) save_position();
  return events->size();
}

std::optional<TimePoint> OutboxRelay::oldest_unpublished() const {
  const int64_t ms = oldest_unpublished_ms_.load();
  return ms == 0 ? std::nullopt : std::optional<TimePoint>(from_unix_ms(ms));
}

void OutboxRelay::save_position() {
  if (position_ == saved_) return;
  saved_ = position_;
  UnitOfWork save;
  save.cursor = std::make_pair(consumer_, saved_);
  store_.commit(std::move(save), [](Status) {});  // a lost save only means a replay the subscribers absorb
}

void OutboxRelay::run() {
  bool failed = false;
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(mu_);
      // Gated out (another replica holds the relay's lease): the gate is asked again after
      // retry_after too, not only at the next commit — the holder may die at a quiet hour with
      // events it never published, and no commit may come to wake this one.
      if (failed || gated_out_) {
        cv_.wait_for(lock, retry_after_, [&] { return pending_ || stopping_; });  // then try again regardless
      } else {
        cv_.wait(lock, [&] { return pending_ || stopping_; });
      }
      pending_ = false;
      stopping = stopping_;
    }
    failed = false;
    // Drain everything committed so far, even when stopping: a drain flushes the relay too.
    for (;;) {
      auto n = run_once();
      if (!n) {
        log_line(LogLevel::kWarn, "outbox relay: retrying", {{"relay", consumer_}, {"error", n.status().message()}});
        failed = true;
        break;
      }
      if (*n == 0) break;
    }
    if (stopping) return;
  }
}

}  // namespace pahlawan

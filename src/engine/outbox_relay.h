// OutboxRelay: reads committed outbox events in commit order and publishes them on the EventBus.
//
// Its position (the last seq handed to the bus) is saved in the store every `save_every` events and at
// stop, so after a restart it resumes there. A crash replays what was published since the last save
// (fewer than save_every + one batch): delivery is at-least-once and subscribers de-duplicate by event
// id. Saving less often keeps the cursor writes from costing the committer an fsync per small batch. One relay thread;
// notify() is called by the store after each commit that appended events. A failed outbox read is
// tried again after `retry_after` by itself: at a quiet hour no further commit may come to wake it.
// Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "ports/event_bus.h"
#include "ports/store.h"

namespace pahlawan {

class OutboxRelay {
 public:
  OutboxRelay(Store& store, EventBus& bus, std::string consumer = "relay", int batch = 512, int save_every = 1024,
              std::chrono::milliseconds retry_after = std::chrono::milliseconds(1000));
  ~OutboxRelay();

  Status start();
  // Several replicas share the relay to the bus, one at a time: it runs only while `gate` says so,
  // and on taking over it resumes from the cursor the previous holder saved (what that holder
  // published since its last save goes again; the bus drops duplicates by event id). REQUIRES:
  // before start().
  void set_gate(std::function<bool()> gate) { gate_ = std::move(gate); }
  void notify();
  // Publishes what is committed, saves the position, and stops the thread.
  void stop();
  // Delivers one batch on the caller's thread; returns how many events it published.
  Result<size_t> run_once();
  int64_t position() const { return position_.load(); }
  // When the oldest event read but not yet confirmed by the bus was committed (its occurred_at), or
  // nullopt when the last read found nothing new or the gate is closed: what the outbox lag is
  // measured from. A bus that keeps failing keeps it, so the lag grows.
  std::optional<TimePoint> oldest_unpublished() const;
  // Committed events past the position, as of the last read (0 when caught up or gated out): the
  // outbox lag in events. Counted by seq, so a PostgreSQL sequence's gaps (rolled-back commits) can
  // make it a little high, never low.
  int64_t unpublished_events() const { return std::max<int64_t>(0, head_.load() - position_.load()); }

 private:
  void run();
  void save_position();
  Store& store_;
  EventBus& bus_;
  const std::string consumer_;
  const int batch_;
  const int save_every_;
  const std::chrono::milliseconds retry_after_;
  std::function<bool()> gate_;
  bool gated_out_ = false;  // relay thread (or the caller of run_once) only: the gate was closed
  int64_t saved_ = 0;       // relay thread (or the caller of run_once) only
  std::atomic<int64_t> position_{0};
  std::atomic<int64_t> oldest_unpublished_ms_{0};  // unix ms; 0: none
  std::atomic<int64_t> head_{0};                   // the last seq known committed, at the last read
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = true;    // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace pahlawan

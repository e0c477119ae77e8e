// GroupCommit: how a durable Store carries out its contract (store.h) around its own transaction,
// shared by SqliteStore and PostgresStore: a bounded queue of units, one committer thread that takes
// everything queued (up to max_batch) as one batch, and the answering of a batch — every `done`
// once, after the outcome is durable, then the events listener. The store supplies only how a batch
// is written (its transaction). Header-only: ports is a room of interfaces and their small kit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "common/fault.h"
#include "common/metrics.h"
#include "common/thread_name.h"
#include "domain/validation.h"
#include "ports/store.h"

namespace pahlawan {

struct CommitJob {
  UnitOfWork unit;
  CommitDone done;
};

class GroupCommitQueue {
 public:
  GroupCommitQueue(size_t max_queue, size_t max_batch) : max_queue_(max_queue), max_batch_(max_batch) {}
  ~GroupCommitQueue() { stop(); }

  // Starts the committer thread, which hands each batch to `commit_batch`.
  void start(const char* thread_name, std::function<void(std::vector<CommitJob>&)> commit_batch, Counter* rejected) {
    rejected_ = rejected;
    committer_ = std::thread([this, thread_name, commit_batch = std::move(commit_batch)] {
      name_this_thread(thread_name);
      std::vector<CommitJob> batch;
      for (;;) {
        {
          std::unique_lock lock(mu_);
          cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
          if (queue_.empty()) return;  // stopping, and everything queued is committed
          while (!queue_.empty() && batch.size() < max_batch_) {
            batch.push_back(std::move(queue_.front()));
            queue_.pop_front();
          }
        }
        commit_batch(batch);
        batch.clear();
      }
    });
  }

  // Queues a unit, or answers kUnavailable at once when the queue is full or stopping.
  void submit(UnitOfWork unit, CommitDone done) {
    {
      std::unique_lock lock(mu_);
      if (stopping_) {
        lock.unlock();
        done(Status(ErrorCode::kUnavailable, "store is shutting down"));
        return;
      }
      if (queue_.size() >= max_queue_) {
        lock.unlock();
        if (rejected_) rejected_->inc();
        done(Status(ErrorCode::kUnavailable, "write queue is full"));
        return;
      }
      queue_.push_back(CommitJob{std::move(unit), std::move(done)});
    }
    cv_.notify_one();
  }

  // Stops taking units and waits until everything queued is committed.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (committer_.joinable()) committer_.join();
  }

 private:
  const size_t max_queue_, max_batch_;
  Counter* rejected_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<CommitJob> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;        // GUARDED_BY(mu_)
  std::thread committer_;
};

// Answers one batch as the contract says. `write` runs the store's transaction(s) for the batch and
// fills `results` for units that failed alone; a Status it returns failed every unit that writes.
// Barriers (empty units) are answered with the batch, after it is decided. `announce` runs after
// the answers when committed units appended events.
inline void answer_group_commit(std::vector<CommitJob>& batch,
                                const std::function<Status(std::vector<CommitJob>&, std::vector<Status>&)>& write,
                                Histogram* commit_seconds, const std::function<void()>& announce) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Status> results(batch.size());
  bool any_writes = false, any_events = false;
  for (const auto& job : batch) {
    any_writes |= !job.unit.empty();
    any_events |= !job.unit.events.empty();
  }
  // A planted bug, for showing that the crash tests and the history checker catch it: every caller is
  // told "committed" before the transaction is even written (replying before the fsync).
  const bool replied_early = PP_FAULT("store.reply_before_commit");
  if (replied_early) {
    for (auto& job : batch) job.done(Status::ok());
    // The writes still to come take a while, as on a slow disk: long enough for the answers to reach
    // the clients before a crash can take the writes away (else a fast crash hides the bug).
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (any_writes) {
    if (Status tx = write(batch, results); !tx) {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!batch[i].unit.empty()) results[i] = tx;
      }
      any_events = false;
    }
    if (commit_seconds) {
      commit_seconds->observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
  }
  // Crash here: the batch is durable but no caller heard of it — the answer a client may or may not
  // have got.
  (void)PP_FAULT("store.after_commit_before_reply");
  if (!replied_early) {
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
  }
  if (any_events && announce) announce();
}

// Fencing, as every store does it inside a batch's transaction: the units whose fence no longer
// holds. `epochs` reads the current epoch of the given partitions' leases (absent: no lease), inside
// the transaction and so that no takeover can commit before it does; its failure fails the batch.
// Returns, per unit, whether it is fenced out (then its result is set: kUnavailable, nothing of it
// is written).
inline Result<std::vector<bool>> fenced_out(
    const std::vector<CommitJob>& batch, std::vector<Status>& results,
    const std::function<Result<std::map<int64_t, int64_t>>(const std::set<int64_t>& partitions)>& epochs) {
  std::vector<bool> out(batch.size(), false);
  std::set<int64_t> partitions;
  for (const auto& job : batch) {
    if (job.unit.fence && !job.unit.empty()) partitions.insert(job.unit.fence->partition);
  }
  if (partitions.empty()) return out;
  auto current = epochs(partitions);
  if (!current) return current.status();
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& f = batch[i].unit.fence;
    if (!f || batch[i].unit.empty()) continue;
    const auto it = current->find(f->partition);
    if (it != current->end() && it->second == f->epoch) continue;
    out[i] = true;
    results[i] = UnitOfWork::lease_lost(*f);
  }
  return out;
}

// What an NGO holds in the store now: offers pending (available items offered to it) with their kg,
// and the kg it claimed since a time.
struct NgoHolding {
  int pending = 0;
  double offered_kg = 0;
  double claimed_kg = 0;
};

// NGO budgets, as every store checks them inside a batch's transaction, after fencing: the offer
// units whose NGO has no room left, counting what the store holds (every replica's offers and
// claims) and the batch's earlier offers. `holdings` reads the NGOs' holdings inside the
// transaction, so that offers to one NGO from two processes are checked one after the other; its
// failure fails the batch. Marks refused units in `skip` (with their result set: kConflict, nothing
// of them is written). Conservative: an offer ending in the same batch frees nothing until the
// next one.
inline Status refuse_over_budget(
    const std::vector<CommitJob>& batch, std::vector<Status>& results, std::vector<bool>& skip,
    const std::function<Result<std::map<std::string, NgoHolding>>(const std::map<std::string, TimePoint>& since)>&
        holdings) {
  std::map<std::string, TimePoint> since;  // per NGO, the earliest claims_since asked
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& b = batch[i].unit.budget;
    if (!b || skip[i]) continue;
    auto [it, added] = since.emplace(b->ngo_id, b->claims_since);
    if (!added) it->second = std::min(it->second, b->claims_since);
  }
  if (since.empty()) return Status::ok();
  auto held = holdings(since);
  if (!held) return held.status();
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& b = batch[i].unit.budget;
    if (!b || skip[i]) continue;
    NgoHolding& h = (*held)[b->ngo_id];
    const bool room =
        h.pending < b->max_pending &&
        (!b->capacity_kg || grams_of(h.claimed_kg + h.offered_kg) + grams_of(b->kg) <= grams_of(*b->capacity_kg));
    if (room) {
      ++h.pending;
      h.offered_kg += b->kg;
      continue;
    }
    skip[i] = true;
    results[i] = Status(ErrorCode::kConflict, "NGO " + b->ngo_id + " has no room for this offer any more");
  }
  return Status::ok();
}

}  // namespace pahlawan

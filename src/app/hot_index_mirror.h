// HotIndexMirror: the hot index this replica serves from, copied to the SharedHotIndex (Redis) that
// every replica browses. It wraps the in-process index: the actors' upserts and removes go to it at
// once, and are queued for the shared copy, written by a thread of its own so an actor's turn never
// waits on Redis.
//
// Only items of partitions this replica holds are written (`owns`): a replica dropping a partition it
// lost must not delete what the new owner has just written.
//
// Keeping the copy right (docs/replicas.md, "Redis hot state"):
// - A failed write (Redis down, slow) leaves the copy behind this replica: the mirror clears `ready`
//   (readers fall back to the store) and, once Redis answers, rebuilds its part — writes every item it
//   holds and removes from its partitions what it no longer has — then sets its mark and `ready`.
// - Redis restarted empty: the mirror finds its mark gone and rebuilds the same way.
// - A partition gained (request_rebuild) and every `reconcile_every`: the same removal of what the
//   copy holds and this replica does not, for writes lost in a lease hand-over.
// - Its partitions' count of cold items (older than the hot window) is published every round.
// Thread-safety: the HotGeoIndex methods from any thread; sync_once from one thread at a time (the
// mirror's own, or a test's).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "ports/hot_geo_index.h"
#include "ports/shared_hot_index.h"

namespace pahlawan {

class HotIndexMirror final : public HotGeoIndex {
 public:
  struct Options {
    std::string owner;                  // this replica's owner id (its mark in the copy)
    std::function<bool(int64_t)> owns;  // whether this replica holds a partition; null: all
    std::function<int64_t()> cold;      // its available items older than the hot window
    Millis reconcile_every{30'000};
    size_t max_queue = 200'000;  // changes waiting beyond this: rebuild instead
  };
  HotIndexMirror(HotGeoIndex& local, SharedHotIndex& shared, const Clock& clock, Options options);
  ~HotIndexMirror() override;

  void upsert(std::shared_ptr<const HotItem> item) override;
  void remove(const std::string& id) override;
  std::vector<NearbyHit> nearby(const NearbyQuery& q) const override { return local_.nearby(q); }
  size_t size() const override { return local_.size(); }

  // The writer thread: a round whenever changes arrive, and at least every `tick`.
  void start(Millis tick = Millis(500));
  void stop();  // last round, then withdraws this replica's cold count and mark
  // One round: writes what is queued, or rebuilds if the copy is behind; publishes the cold count
  // and checks the mark every `tick`. Returns whether the copy is in step with this replica.
  bool sync_once();
  // A partition was gained: remove what the copy holds of it that this replica does not have.
  void request_rebuild();

  struct Stats {
    uint64_t written = 0, rebuilds = 0, failures = 0;
    size_t queued = 0;
    bool in_step = false;
  };
  Stats stats() const;

 private:
  bool owns(const HotItem& item) const;
  Status rebuild();
  Status reconcile(const std::unordered_map<std::string, std::shared_ptr<const HotItem>>& have);
  void fail();  // REQUIRES: mu_ not held

  HotGeoIndex& local_;
  SharedHotIndex& shared_;
  const Clock& clock_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  // The items this replica's shared part should hold (its owned partitions'), and what is not written yet.
  std::unordered_map<std::string, std::shared_ptr<const HotItem>> current_;  // GUARDED_BY(mu_)
  std::vector<HotChange> queue_;                                             // GUARDED_BY(mu_)
  bool behind_ = true;                         // GUARDED_BY(mu_): the copy lacks writes of ours (and at start)
  bool unready_ = false;                       // GUARDED_BY(mu_): `ready` must be cleared before rebuilding
  bool reconcile_ = false;                     // GUARDED_BY(mu_)
  bool stopping_ = false;                      // GUARDED_BY(mu_)
  Stats stats_;                                // GUARDED_BY(mu_)
  TimePoint last_check_{}, last_reconcile_{};  // only the syncing thread
  Millis tick_{500};
  std::thread thread_;
};

}  // namespace pahlawan

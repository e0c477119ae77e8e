// LeaseStore: which replica owns which partition of the globe, for how long, at which epoch — the
// coordination behind several replicas on one store (docs/replicas.md).
//
// A partition is a group of cells (the coarse S2 region of geo_region_id). Its lease is a row in the
// store itself: its owner, an epoch, and when it expires, by the store's own clock (one clock for
// every replica, so no skew between them decides who owns what).
//
// Contract
// - acquire() grants `partition` to `owner` if it has no lease, an expired one, or one held by
//   `owner` (a renewal), and returns the lease; another owner's unexpired lease is nullopt. The epoch
//   starts at 1 and grows by one each time the owner changes, never on a renewal.
// - A unit of work fenced at (partition, epoch) commits only if the lease is at that epoch when its
//   transaction runs (Store: UnitOfWork::fence), so a replica that lost a lease commits nothing for
//   it; a takeover cannot slip between the check and the commit.
// - release() lets the lease expire now if `owner` still holds it at `epoch` (a clean hand-over: the
//   next owner need not wait for the TTL).
// - hand_over() gives the lease from `from`, if it holds it at `epoch`, to `to` at the next epoch,
//   for a TTL from now, and returns it; nullopt if `from` no longer holds it at that epoch. Like a
//   takeover, it waits for fenced commits of the partition that passed their check, and fences out
//   `from`'s later ones. (Balancing: a replica above its share gives a partition to one below.)
// - Partition ids are S2 cell ids of a fixed level (even numbers) and 0; the store gives no id a
//   meaning, so users may keep other leases under ids no partition has (LeaseKeeper: odd ids).
// Thread-safety: every method from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace pahlawan {

struct Lease {
  int64_t partition = 0;
  std::string owner;
  int64_t epoch = 0;
  TimePoint expires_at;
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  virtual Result<std::optional<Lease>> acquire(int64_t partition, const std::string& owner, Millis ttl) = 0;
  virtual Status release(int64_t partition, const std::string& owner, int64_t epoch) = 0;
  virtual Result<std::optional<Lease>> hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                                 const std::string& to, Millis ttl) = 0;
  // Every lease, expired ones included, by partition.
  virtual Result<std::vector<Lease>> leases() = 0;
};

}  // namespace pahlawan

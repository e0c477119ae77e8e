// LeaseKeeper: the partition leases one replica holds (docs/replicas.md). A partition is taken when
// this replica first needs it (epoch_for), kept by renewing it every ttl / 3 (tick), and given up
// at shutdown (release_all). It is lost when a renewal is refused (another replica took it after it
// expired) or when no renewal has succeeded for a TTL: from the moment the store may hand the lease
// to someone else, this replica stops claiming it, and tells the partition's owner of state
// (`lost`) so that its items and deadlines are dropped. Fencing in the store keeps commits correct
// even when this replica learns late; the keeper keeps it from deciding on stale state meanwhile.
//
// Balancing: each replica also holds a member lease (an odd id, one of kMemberSlots), renewed with
// its partitions, so the others see it while it holds no partition. Every read of the leases, a
// replica holding more partitions than its fair share (the live members' partitions, divided
// among them, rounded up) hands one, in the store, to the live member holding the fewest, then
// drops it; the receiver adopts it at its next read (or at the first request for it). One hand-over
// per read each: a restarted replica, or the survivors of a dead one, level out within a few reads.
//
// Time is the injected clock's (a renewal counts from when it was sent: the store's own expiry is
// never earlier than that). tick() is called by a thread in the server and directly by tests.
// Thread-safety: every method from any thread; callbacks run on the calling thread, with no lock
// of the keeper's held.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "ports/lease_store.h"
#include "ports/store.h"

namespace pahlawan {

class LeaseKeeper {
 public:
  // Member leases live at the odd ids 1, 3, … (2 × kMemberSlots − 1): no partition has an odd id.
  static constexpr int64_t kMemberSlots = 64;
  // Partitions that count in balancing: S2 cells (even, not 0; 0 is the bus relay's lease).
  static bool balanced(int64_t id) { return id != 0 && (id & 1) == 0; }
  static bool member_slot(int64_t id) { return (id & 1) != 0; }
  struct Callbacks {
    std::function<void(int64_t partition, int64_t epoch)> gained;  // load its state, re-arm deadlines
    std::function<void(int64_t partition)> lost;                   // drop its state
  };
  // `owner`: this replica's name and incarnation (a restarted replica is a new owner).
  LeaseKeeper(LeaseStore& store, const Clock& clock, std::string owner, Millis ttl, Callbacks callbacks);

  const std::string& owner() const { return owner_; }
  // The epoch this replica holds `partition` at, taking the lease if it is free or expired. nullopt:
  // another replica holds it, or the store did not answer.
  std::optional<int64_t> epoch_for(int64_t partition);
  // The fence for a unit of work on `partition`: this replica's epoch, taking the lease if it is
  // free. Otherwise kElsewhere whose message is the holder's owner id (remembered for a second, so
  // requests for another replica's partition do not each ask the store), or kUnavailable when the
  // store does not answer or the lease is changing hands.
  Result<UnitOfWork::Fence> fence_for(int64_t partition);
  // Renews each held lease last renewed ttl / 3 ago or more; drops those refused, or not renewed
  // for a TTL. Every ttl / 3 it also reads every lease, and takes those that look orphaned: another
  // owner's lease unchanged (not renewed) for half a TTL of this replica's time is tried — the store
  // grants it only if it has expired, so a dead replica's partitions are taken over, with their
  // deadlines, without waiting for a request to reach them.
  void tick();
  // Gives every lease back (shutdown): the next owners need not wait out the TTL.
  void release_all();
  std::vector<int64_t> held() const;                           // the relay's lease too, not the member lease
  int64_t handed_over() const { return handed_over_.load(); }  // partitions given to others, ever
  // Leases gained (taken free, taken over after a lapse, or handed over to this replica) and lost
  // (taken by another after a lapse, or unrenewable for a TTL), ever: how often partitions move.
  int64_t acquired() const { return acquired_.load(); }
  int64_t lost() const { return lost_.load(); }
  // Other replicas' partitions that looked orphaned at the last read of the leases (not renewed for
  // half a TTL, or released): a partition without an owner, until a replica takes it.
  int64_t orphaned_seen() const;
  bool holds(int64_t partition) const;

 private:
  struct Held {
    int64_t epoch = 0;
    TimePoint renewed;  // when the last successful acquire or renewal was sent
  };
  // Another replica's lease as last read, and since when (this replica's clock) it has not changed.
  struct Foreign {
    std::string owner;
    int64_t epoch = 0;
    TimePoint expires_at;  // the store's clock: compared only with itself
    TimePoint unchanged_since;
    TimePoint read;
    bool released = false;  // its expiry moved back (a release), not forward (a renewal)
  };
  struct Member {
    int64_t id = 0, epoch = 0;
    TimePoint renewed;
  };
  // Another replica's lease that looks abandoned: released, or not renewed for half a TTL of this
  // replica's time. A partition's: orphaned (taken if expired); a member's: not live.
  bool unrenewed(const Foreign& f, TimePoint now) const { return f.released || now - f.unchanged_since >= ttl_ / 2; }
  void lose(int64_t partition);  // REQUIRES: mu_ not held
  // Reads every lease into foreign_. Returns the partitions that look orphaned (another owner's,
  // not renewed for half a TTL, or released) and those the store says are this replica's but it
  // does not hold (handed to it by another replica).
  struct Read {
    std::vector<int64_t> orphaned, given;
  };
  Read read_foreign();
  void keep_membership();  // joins (takes a free member slot) or renews
  void balance();          // hands over one partition if above the fair share

  LeaseStore& store_;
  const Clock& clock_;
  const std::string owner_;
  const Millis ttl_;
  const Callbacks callbacks_;
  mutable std::mutex mu_;
  std::map<int64_t, Held> held_;        // GUARDED_BY(mu_)
  std::map<int64_t, Foreign> foreign_;  // GUARDED_BY(mu_)
  TimePoint foreign_read_{};            // GUARDED_BY(mu_): the last full read
  std::optional<Member> member_;        // GUARDED_BY(mu_)
  std::set<int64_t> shedding_;          // GUARDED_BY(mu_): being handed over; not to be taken meanwhile
  std::atomic<int64_t> handed_over_{0};
  std::atomic<int64_t> acquired_{0};
  std::atomic<int64_t> lost_{0};
};

}  // namespace pahlawan

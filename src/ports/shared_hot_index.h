// SharedHotIndex: a copy of the hot index shared by every replica (Redis). Each replica writes the
// available items of the partitions it holds; any replica answers "what is near me" for all of them,
// so browsing with several replicas needs no store query.
//
// A cache, never the truth. Every call may fail (down, slow: kUnavailable), and the copy may be
// incomplete (the server restarted empty, or a writer lost writes): nearby then answers kUnavailable
// and the caller reads the store instead. Its writers rebuild it (HotIndexMirror): a writer marks its
// copy written (`mark`) once its items are in, and a complete copy (`ready`) is what readers trust.
//
// Contract (test/contract/hot_index_contract_test.cc runs it against the in-process index and Redis):
// nearby returns items nearest first, within radius_m, at most `limit`, leaving out items whose
// expires_at <= now; an upsert replaces the item with the same id; removing an absent item is no error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "ports/hot_geo_index.h"

namespace pahlawan {

// One change to the copy. A removal carries the item as last written: where it sat is what says
// which keys hold it.
struct HotChange {
  std::shared_ptr<const HotItem> item;
  bool removed = false;
};

class SharedHotIndex {
 public:
  virtual ~SharedHotIndex() = default;

  // Applies the changes in order. An item belongs to partition_of_cell(item.surplus.cell).
  virtual Status apply(const std::vector<HotChange>& changes) = 0;
  // The partitions that hold items, and the ids one holds: what a writer compares with its own state
  // to remove what it no longer has (writes lost while the copy was unreachable).
  virtual Result<std::vector<int64_t>> partitions() = 0;
  virtual Result<std::vector<std::string>> ids_of(int64_t partition) = 0;
  virtual Status remove_ids(int64_t partition, const std::vector<std::string>& ids) = 0;

  // Completeness. `owner` has written all its items (its mark), and the copy is complete (ready);
  // clear_ready when a writer lost writes, so readers fall back until it has rebuilt its part.
  virtual Result<bool> has_mark(const std::string& owner) = 0;
  virtual Status set_ready(const std::string& owner) = 0;  // sets the owner's mark and ready
  virtual Status clear_ready() = 0;

  // Available items older than the hot window are not in the copy: each writer publishes how many
  // of its partitions hold, so a reader asks the store only when some exist anywhere. Counts older
  // than a few seconds (a writer that died) are left out of the total.
  virtual Status publish_cold(const std::string& owner, int64_t count, TimePoint now) = 0;
  virtual Result<int64_t> cold_total(TimePoint now) = 0;
  virtual Status withdraw(const std::string& owner) = 0;  // at shutdown: its count and mark go

  // kUnavailable when the copy cannot be read or is not complete.
  virtual Result<std::vector<NearbyHit>> nearby(const NearbyQuery& q) = 0;
};

}  // namespace pahlawan

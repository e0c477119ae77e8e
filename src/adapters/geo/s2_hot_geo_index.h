// S2HotGeoIndex: the in-process HotGeoIndex. Places live in S2PointIndex b-trees keyed by leaf cell
// id, one for all items and one per category, so a category filter is an index lookup rather than a
// scan; S2ClosestPointQuery answers k-nearest within a radius.
//
// Many items share one place (a market, a hotel, a central kitchen posting at its default
// location). S2PointIndex::Remove walks every entry with the same cell id, so one entry per item made
// each update at such a place cost as much as the items there (quadratic over an evening). The index
// therefore holds one entry per distinct point — a bucket — and the items of a place sit in the
// bucket's vector, added and removed in O(1) (swap with the last). An upsert that keeps the item's
// place and category replaces it in place without touching the b-trees.
// Thread-safety: a shared_mutex; many concurrent nearby() readers, one writer at a time.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "ports/hot_geo_index.h"

namespace pahlawan {

class S2HotGeoIndex final : public HotGeoIndex {
 public:
  S2HotGeoIndex();
  ~S2HotGeoIndex() override;
  void upsert(std::shared_ptr<const HotItem> item) override;
  void remove(const std::string& id) override;
  std::vector<NearbyHit> nearby(const NearbyQuery& q) const override;
  size_t size() const override;
  // Distinct places indexed (all categories): for tests and metrics.
  size_t places() const;

 private:
  struct Impl;
  void remove_locked(const std::string& id);  // REQUIRES: mu_ held exclusively
  mutable std::shared_mutex mu_;
  std::unique_ptr<Impl> impl_;  // GUARDED_BY(mu_); keeps S2 headers out of this header
};

}  // namespace pahlawan

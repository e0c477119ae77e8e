// S2HotGeoIndex: the in-process HotGeoIndex. Points live in S2PointIndex b-trees keyed by leaf cell
// id, one for all items and one per category, so a category filter is an index lookup rather than a
// scan; S2ClosestPointQuery answers k-nearest within a radius.
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

 private:
  struct Impl;
  void remove_locked(const std::string& id);  // REQUIRES: mu_ held exclusively
  mutable std::shared_mutex mu_;
  std::unique_ptr<Impl> impl_;  // GUARDED_BY(mu_); keeps S2 headers out of this header
};

}  // namespace pahlawan

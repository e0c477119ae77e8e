// HotGeoIndex: the available surplus, indexed by place, answering "what is near me" without touching
// the store. The store keeps history; this keeps only what can still be claimed.
//
// Contract: upsert/remove/nearby are safe from any thread. nearby returns items nearest first, within
// radius_m, at most `limit`, leaving out items whose expires_at <= now. Items are immutable snapshots;
// upsert replaces the item with the same id.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/surplus.h"

namespace pahlawan {

struct NearbyQuery {
  double lat = 0, lon = 0, radius_m = 5000;
  int limit = 50;
  std::optional<std::string> category;
  TimePoint now;
};

// What the index holds of an available item: the item, and the item as the API renders it (the
// payload of its latest event), so browsing serves it without rendering JSON again.
struct HotItem {
  Surplus surplus;
  std::string json;
};

struct NearbyHit {
  std::shared_ptr<const HotItem> item;
  double distance_m = 0;
};

class HotGeoIndex {
 public:
  virtual ~HotGeoIndex() = default;
  virtual void upsert(std::shared_ptr<const HotItem> item) = 0;
  virtual void remove(const std::string& id) = 0;
  virtual std::vector<NearbyHit> nearby(const NearbyQuery& q) const = 0;
  virtual size_t size() const = 0;
};

}  // namespace pahlawan

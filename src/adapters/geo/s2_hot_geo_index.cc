#include "adapters/geo/s2_hot_geo_index.h"

#include <mutex>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <s2/s1chord_angle.h>
#include <s2/s2closest_point_query.h>
#include <s2/s2earth.h>
#include <s2/s2latlng.h>
#include <s2/s2point_index.h>
#pragma GCC diagnostic pop

namespace pahlawan {

struct S2HotGeoIndex::Impl {
  // Data attached to each point: a dense handle, because S2PointIndex wants Data ordered and cheap.
  using Index = S2PointIndex<uint64_t>;
  struct Entry {
    std::shared_ptr<const HotItem> item;
    S2Point point;
    uint64_t handle;
  };
  Index all;
  std::unordered_map<std::string, std::unique_ptr<Index>> by_category;
  std::unordered_map<std::string, Entry> by_id;
  std::unordered_map<uint64_t, std::shared_ptr<const HotItem>> by_handle;
  uint64_t next_handle = 1;
};

S2HotGeoIndex::S2HotGeoIndex() : impl_(std::make_unique<Impl>()) {}
S2HotGeoIndex::~S2HotGeoIndex() = default;

void S2HotGeoIndex::upsert(std::shared_ptr<const HotItem> item) {
  const S2Point point = S2LatLng::FromDegrees(item->surplus.lat, item->surplus.lon).ToPoint();
  std::unique_lock lock(mu_);
  remove_locked(item->surplus.id);
  auto& impl = *impl_;
  const uint64_t handle = impl.next_handle++;
  impl.all.Add(point, handle);
  auto& cat = impl.by_category[item->surplus.category];
  if (!cat) cat = std::make_unique<Impl::Index>();
  cat->Add(point, handle);
  impl.by_handle.emplace(handle, item);
  const std::string id = item->surplus.id;
  impl.by_id.emplace(id, Impl::Entry{std::move(item), point, handle});
}

void S2HotGeoIndex::remove(const std::string& id) {
  std::unique_lock lock(mu_);
  remove_locked(id);
}

void S2HotGeoIndex::remove_locked(const std::string& id) {
  auto& impl = *impl_;
  auto it = impl.by_id.find(id);
  if (it == impl.by_id.end()) return;
  const auto& e = it->second;
  impl.all.Remove(e.point, e.handle);
  auto cat = impl.by_category.find(e.item->surplus.category);
  if (cat != impl.by_category.end()) {
    cat->second->Remove(e.point, e.handle);
    if (cat->second->num_points() == 0) impl.by_category.erase(cat);
  }
  impl.by_handle.erase(e.handle);
  impl.by_id.erase(it);
}

std::vector<NearbyHit> S2HotGeoIndex::nearby(const NearbyQuery& q) const {
  const S2Point center = S2LatLng::FromDegrees(q.lat, q.lon).ToPoint();
  std::vector<NearbyHit> out;
  std::shared_lock lock(mu_);
  const Impl::Index* index = &impl_->all;
  if (q.category) {
    auto it = impl_->by_category.find(*q.category);
    if (it == impl_->by_category.end()) return out;
    index = it->second.get();
  }
  S2ClosestPointQuery<uint64_t> query(index);
  query.mutable_options()->set_max_distance(S2Earth::MetersToChordAngle(q.radius_m));
  // Items past their expiry stay in the index until the expiry queue removes them (moments later);
  // ask for a few more so that skipping them rarely shortens the page.
  query.mutable_options()->set_max_results(q.limit + 16);
  S2ClosestPointQuery<uint64_t>::PointTarget target(center);
  for (const auto& r : query.FindClosestPoints(&target)) {
    const auto& item = impl_->by_handle.at(r.data());
    if (item->surplus.expires_at <= q.now) continue;
    out.push_back(NearbyHit{item, S2Earth::ToMeters(r.distance())});
    if (static_cast<int>(out.size()) == q.limit) break;
  }
  return out;
}

size_t S2HotGeoIndex::size() const {
  std::shared_lock lock(mu_);
  return impl_->by_id.size();
}

}  // namespace pahlawan

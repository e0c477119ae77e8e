#include "adapters/geo/s2_hot_geo_index.h"

#include <functional>
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
namespace {

struct PointHash {
  size_t operator()(const S2Point& p) const {
    const std::hash<double> h;
    size_t seed = h(p.x());
    seed ^= h(p.y()) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    seed ^= h(p.z()) + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
    return seed;
  }
};

// Where an item sits in one Places: its bucket and its position in the bucket's vector.
struct Slot {
  uint64_t bucket = 0;
  size_t pos = 0;
};

// The items of one index (all, or one category), grouped by exact point.
struct Places {
  using Index = S2PointIndex<uint64_t>;  // data: the bucket handle
  struct Bucket {
    S2Point point;
    std::vector<std::shared_ptr<const HotItem>> items;
  };
  Index index;
  std::unordered_map<S2Point, uint64_t, PointHash> by_point;
  std::unordered_map<uint64_t, Bucket> buckets;
  uint64_t next_handle = 1;

  Slot add(const S2Point& point, std::shared_ptr<const HotItem> item) {
    auto [it, fresh] = by_point.try_emplace(point, 0);
    if (fresh) {
      it->second = next_handle++;
      buckets.emplace(it->second, Bucket{point, {}});
      index.Add(point, it->second);
    }
    auto& bucket = buckets.at(it->second);
    bucket.items.push_back(std::move(item));
    return Slot{it->second, bucket.items.size() - 1};
  }

  // Removes the item at `slot`; returns the item moved into its position (to fix that item's slot),
  // or null when none moved.
  const HotItem* remove(const Slot& slot) {
    auto b = buckets.find(slot.bucket);
    auto& items = b->second.items;
    const HotItem* moved = nullptr;
    if (slot.pos + 1 != items.size()) {
      items[slot.pos] = std::move(items.back());
      moved = items[slot.pos].get();
    }
    items.pop_back();
    if (items.empty()) {
      index.Remove(b->second.point, b->first);  // one entry per point: no walk over neighbours
      by_point.erase(b->second.point);
      buckets.erase(b);
    }
    return moved;
  }

  void replace(const Slot& slot, std::shared_ptr<const HotItem> item) {
    buckets.at(slot.bucket).items[slot.pos] = std::move(item);
  }
};

}  // namespace

struct S2HotGeoIndex::Impl {
  struct Entry {
    std::shared_ptr<const HotItem> item;
    S2Point point;
    Slot in_all, in_category;
  };
  Places all;
  std::unordered_map<std::string, std::unique_ptr<Places>> by_category;
  std::unordered_map<std::string, Entry> by_id;
};

S2HotGeoIndex::S2HotGeoIndex() : impl_(std::make_unique<Impl>()) {}
S2HotGeoIndex::~S2HotGeoIndex() = default;

void S2HotGeoIndex::upsert(std::shared_ptr<const HotItem> item) {
  const S2Point point = S2LatLng::FromDegrees(item->surplus.lat, item->surplus.lon).ToPoint();
  std::unique_lock lock(mu_);
  auto& impl = *impl_;
  auto it = impl.by_id.find(item->surplus.id);
  if (it != impl.by_id.end() && it->second.point == point &&
      it->second.item->surplus.category == item->surplus.category) {
    // Same place, same category (an offer, a cooling step, a dead-lettering): swap the snapshot.
    auto& e = it->second;
    impl.all.replace(e.in_all, item);
    impl.by_category.at(item->surplus.category)->replace(e.in_category, item);
    e.item = std::move(item);
    return;
  }
  if (it != impl.by_id.end()) remove_locked(item->surplus.id);
  auto& cat = impl.by_category[item->surplus.category];
  if (!cat) cat = std::make_unique<Places>();
  Impl::Entry e{item, point, impl.all.add(point, item), cat->add(point, item)};
  const std::string id = item->surplus.id;
  impl.by_id.emplace(id, std::move(e));
}

void S2HotGeoIndex::remove(const std::string& id) {
  std::unique_lock lock(mu_);
  remove_locked(id);
}

void S2HotGeoIndex::remove_locked(const std::string& id) {
  auto& impl = *impl_;
  auto it = impl.by_id.find(id);
  if (it == impl.by_id.end()) return;
  const Impl::Entry e = std::move(it->second);
  impl.by_id.erase(it);
  if (const HotItem* moved = impl.all.remove(e.in_all)) impl.by_id.at(moved->surplus.id).in_all.pos = e.in_all.pos;
  auto cat = impl.by_category.find(e.item->surplus.category);
  if (cat != impl.by_category.end()) {
    if (const HotItem* moved = cat->second->remove(e.in_category)) {
      impl.by_id.at(moved->surplus.id).in_category.pos = e.in_category.pos;
    }
    if (cat->second->buckets.empty()) impl.by_category.erase(cat);
  }
}

std::vector<NearbyHit> S2HotGeoIndex::nearby(const NearbyQuery& q) const {
  const S2Point center = S2LatLng::FromDegrees(q.lat, q.lon).ToPoint();
  std::vector<NearbyHit> out;
  std::shared_lock lock(mu_);
  const Places* places = &impl_->all;
  if (q.category) {
    auto it = impl_->by_category.find(*q.category);
    if (it == impl_->by_category.end()) return out;
    places = it->second.get();
  }
  S2ClosestPointQuery<uint64_t> query(&places->index);
  query.mutable_options()->set_max_distance(S2Earth::MetersToChordAngle(q.radius_m));
  // Items past their expiry stay in the index until the expiry queue removes them (moments later);
  // ask for a few more places so that skipping them rarely shortens the page. Every place holds at
  // least one item, so limit + 16 places hold at least that many items.
  query.mutable_options()->set_max_results(q.limit + 16);
  S2ClosestPointQuery<uint64_t>::PointTarget target(center);
  for (const auto& r : query.FindClosestPoints(&target)) {
    const double meters = S2Earth::ToMeters(r.distance());
    for (const auto& item : places->buckets.at(r.data()).items) {
      if (item->surplus.expires_at <= q.now) continue;
      out.push_back(NearbyHit{item, meters});
      if (static_cast<int>(out.size()) == q.limit) return out;
    }
  }
  return out;
}

size_t S2HotGeoIndex::size() const {
  std::shared_lock lock(mu_);
  return impl_->by_id.size();
}

size_t S2HotGeoIndex::places() const {
  std::shared_lock lock(mu_);
  return impl_->all.buckets.size();
}

}  // namespace pahlawan

#include "adapters/geo/s2_ngo_directory.h"

#include <mutex>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <s2/s2closest_point_query.h>
#include <s2/s2earth.h>
#include <s2/s2latlng.h>
#include <s2/s2point_index.h>
#pragma GCC diagnostic pop

namespace pahlawan {

struct S2NgoDirectory::Impl {
  S2PointIndex<uint32_t> index;  // data: position in `ngos`
  std::vector<std::shared_ptr<const Ngo>> ngos;
  std::unordered_map<std::string, uint32_t> by_id;
};

S2NgoDirectory::S2NgoDirectory() : impl_(std::make_unique<Impl>()) {}
S2NgoDirectory::~S2NgoDirectory() = default;

void S2NgoDirectory::add(Ngo ngo) {
  const S2Point point = S2LatLng::FromDegrees(ngo.lat, ngo.lon).ToPoint();
  std::unique_lock lock(mu_);
  if (impl_->by_id.count(ngo.id)) return;  // NGOs do not move; registering twice changes nothing
  const auto slot = static_cast<uint32_t>(impl_->ngos.size());
  impl_->by_id.emplace(ngo.id, slot);
  impl_->ngos.push_back(std::make_shared<const Ngo>(std::move(ngo)));
  impl_->index.Add(point, slot);
}

std::shared_ptr<const Ngo> S2NgoDirectory::find(const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = impl_->by_id.find(id);
  return it == impl_->by_id.end() ? nullptr : impl_->ngos[it->second];
}

std::vector<NgoNear> S2NgoDirectory::near(double lat, double lon, double radius_m, int k) const {
  std::vector<NgoNear> out;
  std::shared_lock lock(mu_);
  S2ClosestPointQuery<uint32_t> query(&impl_->index);
  query.mutable_options()->set_max_distance(S2Earth::MetersToChordAngle(radius_m));
  query.mutable_options()->set_max_results(k);
  S2ClosestPointQuery<uint32_t>::PointTarget target(S2LatLng::FromDegrees(lat, lon).ToPoint());
  for (const auto& r : query.FindClosestPoints(&target)) {
    out.push_back(NgoNear{impl_->ngos[r.data()], S2Earth::ToMeters(r.distance())});
  }
  return out;
}

}  // namespace pahlawan

#include "domain/geo.h"

#include <cmath>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <s2/s1angle.h>
#include <s2/s2cap.h>
#include <s2/s2cell_id.h>
#include <s2/s2latlng.h>
#include <s2/s2region_coverer.h>
#pragma GCC diagnostic pop

namespace pahlawan {

bool valid_lat(double lat) {
  return std::isfinite(lat) && lat >= -90.0 && lat <= 90.0;
}
bool valid_lon(double lon) {
  return std::isfinite(lon) && lon >= -180.0 && lon <= 180.0;
}

double haversine_m(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = M_PI / 180.0;
  const double dlat = (lat2 - lat1) * kRad, dlon = (lon2 - lon1) * kRad;
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

uint64_t cell_id_at(double lat, double lon, int level) {
  return S2CellId(S2LatLng::FromDegrees(lat, lon)).parent(level).id();
}

int64_t partition_of_cell(uint64_t cell_id) {
  return static_cast<int64_t>(S2CellId(cell_id).parent(kPartitionLevel).id());
}

CellRange cells_of_partition(int64_t partition) {
  const S2CellId p(static_cast<uint64_t>(partition));
  return CellRange{p.range_min().id(), p.range_max().id()};
}

uint64_t region_of_partition(int64_t partition) {
  return S2CellId(static_cast<uint64_t>(partition)).parent(kRegionLevel).id();
}

std::string cell_token(uint64_t cell_id) {
  return S2CellId(cell_id).ToToken();
}

std::vector<uint64_t> covering_cells(double lat, double lon, double radius_m, int level) {
  const S2Cap cap(S2LatLng::FromDegrees(lat, lon).ToPoint(), S1Angle::Radians(radius_m / kEarthRadiusM));
  S2RegionCoverer::Options options;
  options.set_fixed_level(level);
  options.set_max_cells(1 << 20);
  S2RegionCoverer coverer(options);
  std::vector<S2CellId> cells;
  coverer.GetCovering(cap, &cells);
  std::vector<uint64_t> out;
  out.reserve(cells.size());
  for (const auto& c : cells) out.push_back(c.id());
  return out;
}

std::vector<CellRange> covering_ranges(double lat, double lon, double radius_m, int level, int max_ranges) {
  const S2Cap cap(S2LatLng::FromDegrees(lat, lon).ToPoint(), S1Angle::Radians(radius_m / kEarthRadiusM));
  S2RegionCoverer::Options options;
  options.set_max_level(level);
  options.set_max_cells(max_ranges);
  S2RegionCoverer coverer(options);
  std::vector<S2CellId> cells;
  coverer.GetCovering(cap, &cells);
  std::vector<CellRange> out;
  out.reserve(cells.size());
  for (const auto& c : cells) {
    out.push_back(CellRange{c.child_begin(level).id(), c.child_end(level).prev().id()});
  }
  return out;
}

std::string region_token(double lat, double lon) {
  return cell_token(cell_id_at(lat, lon, kRegionLevel));
}

}  // namespace pahlawan

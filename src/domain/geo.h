// Geography of the platform: coordinate checks, great-circle distance, and the S2 cells that shard
// surplus (levels 12–15) and group the Geo-DLQ (level 6). Pure functions; S2 stays inside geo.cc so
// that its heavy headers do not spread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pahlawan {

inline constexpr int kMinShardLevel = 12;
inline constexpr int kMaxShardLevel = 15;
// Regions: the S2 cells at this level group the Geo-DLQ and the waiting lines, and are the key a
// distributed store partitions by (geo_region_id), so one region's rows sit together.
inline constexpr int kRegionLevel = 6;
// Several replicas: a partition, the unit one replica leases, is the S2 cell at this level (~18 km
// across; docs/replicas.md): a city spans tens of them, an NGO's match radius a few.
inline constexpr int kPartitionLevel = 9;
inline constexpr double kEarthRadiusM = 6371008.8;

bool valid_lat(double lat);
bool valid_lon(double lon);
double haversine_m(double lat1, double lon1, double lat2, double lon2);

uint64_t cell_id_at(double lat, double lon, int level);
// The partition of a shard cell (its parent at kPartitionLevel), as the signed id leases are kept by.
int64_t partition_of_cell(uint64_t cell_id);
std::string cell_token(uint64_t cell_id);
// The cells at `level` that cover the cap of radius_m around (lat, lon).
std::vector<uint64_t> covering_cells(double lat, double lon, double radius_m, int level);

// The same cap as a few ranges of cell ids at `level` (inclusive; cells at one level are ordered
// along the Hilbert curve, so a coarser covering cell is one contiguous range of them): how a store
// finds the items of an area by an index on their cell, however many cells the area spans. Each
// range lies within one cube face, so a range keeps its order when the ids are stored as signed.
struct CellRange {
  uint64_t first, last;
};
std::vector<CellRange> covering_ranges(double lat, double lon, double radius_m, int level, int max_ranges = 12);

// The shard cells of a partition: one range of cell ids (its descendants), within one cube face.
CellRange cells_of_partition(int64_t partition);
// The token of the region (kRegionLevel cell) a point lies in: how the Geo-DLQ, the waiting line and
// their gauges name regions.
std::string region_token(double lat, double lon);
// The region (kRegionLevel cell) a partition lies in: where a distributed store keeps its rows.
uint64_t region_of_partition(int64_t partition);

}  // namespace pahlawan

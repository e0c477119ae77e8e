// RedisHotIndex: the SharedHotIndex in Redis GEO sets, keyed by S2 cell (docs/replicas.md, "Redis hot
// state").
//
// One GEO set for a whole city answers "the 20 nearest within 5 km" by gathering every point in the
// radius before sorting them: thousands per query. Here an item sits in a fine set (its level-13 cell,
// ~1.3 km², ~1 km across) and a coarse one (its level-10 cell, ~80 km²), each also per category. A
// query first asks the fine sets covering a 500 m circle (a handful, pipelined in one round trip);
// when they hold `limit` items within 500 m, those are the nearest anywhere, and it stops. Otherwise
// the fine sets covering 2 km, and only a sparse area goes on to the coarse sets covering the whole
// radius. (Measured in docs/benchmarks.md: 500 m answers a city's query 2.6 times faster than 1 km.) Item bodies (the
// rendered JSON and expiry) are plain keys fetched with MGET; a partition's hash lists its items and their cells, so
// stale ones can be found and removed without reading the item.
// Thread-safety: every method from any thread (RedisLink pools connections).
#pragma once

#include <mutex>
#include <string>

#include "adapters/redis/redis_link.h"
#include "ports/shared_hot_index.h"

namespace pahlawan {

class RedisHotIndex final : public SharedHotIndex {
 public:
  // `prefix` starts every key (several deployments may share one server).
  RedisHotIndex(RedisLink& link, std::string prefix = "pp:");

  Status apply(const std::vector<HotChange>& changes) override;
  Result<std::vector<int64_t>> partitions() override;
  Result<std::vector<std::string>> ids_of(int64_t partition) override;
  Status remove_ids(int64_t partition, const std::vector<std::string>& ids) override;
  Result<bool> has_mark(const std::string& owner) override;
  Status set_ready(const std::string& owner) override;
  Status clear_ready() override;
  Status publish_cold(const std::string& owner, int64_t count, TimePoint now) override;
  Result<int64_t> cold_total(TimePoint now) override;
  Status withdraw(const std::string& owner) override;
  Result<std::vector<NearbyHit>> nearby(const NearbyQuery& q) override;

  // The radii the fine sets are asked (meters), before the coarse sets are asked the whole radius;
  // and the levels of the two kinds of set.
  static constexpr double kFineRadiusM = 500, kWideRadiusM = 2000;
  static constexpr int kFineLevel = 13, kCoarseLevel = 10;

 private:
  struct Candidate {
    std::string id;
    double distance_m;
  };
  // GEOSEARCH of every set named, merged nearest first; each set gives at most `count`.
  Result<std::vector<Candidate>> search(const std::vector<std::string>& keys, const NearbyQuery& q, double radius_m,
                                        int count, bool check_ready);
  // The candidates' bodies, in order, leaving out those gone or expired, until `limit`.
  Status fill(const std::vector<Candidate>& candidates, const NearbyQuery& q, std::vector<NearbyHit>& out);
  std::vector<std::string> set_keys(int level, double lat, double lon, double radius_m,
                                    const std::optional<std::string>& category) const;
  std::string key(const std::string& what) const { return prefix_ + what; }

  RedisLink& link_;
  const std::string prefix_;
  std::mutex cold_mu_;
  TimePoint cold_read_{};    // GUARDED_BY(cold_mu_)
  int64_t cold_cached_ = 0;  // GUARDED_BY(cold_mu_)
};

}  // namespace pahlawan

// Micro-benchmark of the in-process hot index alone: nearby queries (radius 5 km, limit 20) over
// 100,000 available items spread across Jakarta, and the cost of an upsert.
#include <benchmark/benchmark.h>

#include <random>

#include "adapters/geo/s2_hot_geo_index.h"

namespace {

using namespace pahlawan;

const TimePoint kNow = from_unix_ms(1'795'000'000'000);

S2HotGeoIndex& jakarta(size_t n) {
  static S2HotGeoIndex* index = [n] {
    auto* idx = new S2HotGeoIndex();
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
    for (size_t i = 0; i < n; ++i) {
      auto h = std::make_shared<HotItem>();
      h->surplus.id = "s" + std::to_string(i);
      h->surplus.lat = lat(rng);
      h->surplus.lon = lon(rng);
      h->surplus.category = i % 3 == 0 ? "bakery" : "prepared_meal";
      h->surplus.expires_at = kNow + std::chrono::hours(2);
      idx->upsert(std::move(h));
    }
    return idx;
  }();
  return *index;
}

void BM_Nearby5km(benchmark::State& state) {
  auto& index = jakarta(100000);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
  size_t hits = 0;
  for (auto _ : state) {
    auto r = index.nearby(NearbyQuery{lat(rng), lon(rng), 5000, 20, std::nullopt, kNow});
    hits += r.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["hits_per_query"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Nearby5km)->ThreadRange(1, 2)->UseRealTime();

void BM_Nearby5kmCategory(benchmark::State& state) {
  auto& index = jakarta(100000);
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
  for (auto _ : state) {
    auto r = index.nearby(NearbyQuery{lat(rng), lon(rng), 5000, 20, std::string("bakery"), kNow});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Nearby5kmCategory);

void BM_UpsertRemove(benchmark::State& state) {
  auto& index = jakarta(100000);
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
  size_t i = 0;
  for (auto _ : state) {
    auto h = std::make_shared<HotItem>();
    h->surplus.id = "x" + std::to_string(i++ % 1000);
    h->surplus.lat = lat(rng);
    h->surplus.lon = lon(rng);
    h->surplus.category = "bakery";
    h->surplus.expires_at = kNow + std::chrono::hours(2);
    index.upsert(std::move(h));
  }
}
BENCHMARK(BM_UpsertRemove);

}  // namespace

BENCHMARK_MAIN();

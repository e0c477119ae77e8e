// Micro-benchmark of the in-process hot index alone: nearby queries (radius 5 km, limit 20) over
// 100,000 available items spread across Jakarta, the cost of an upsert, and of an update at a place
// crowded with items.
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

// Items at one place (a central kitchen's default location): upsert and remove there while
// `state.range(0)` other items share the point. Flat in the count since one entry per point.
void BM_UpsertRemoveAtCrowdedPlace(benchmark::State& state) {
  S2HotGeoIndex index;
  const auto crowd = static_cast<size_t>(state.range(0));
  auto at_kitchen = [](const std::string& id) {
    auto h = std::make_shared<HotItem>();
    h->surplus.id = id;
    h->surplus.lat = -6.2;
    h->surplus.lon = 106.8;
    h->surplus.category = "prepared_meal";
    h->surplus.expires_at = kNow + std::chrono::hours(2);
    return h;
  };
  for (size_t i = 0; i < crowd; ++i) index.upsert(at_kitchen("c" + std::to_string(i)));
  size_t i = 0;
  for (auto _ : state) {
    const std::string id = "c" + std::to_string(i++ % crowd);
    index.remove(id);
    index.upsert(at_kitchen(id));
  }
}
BENCHMARK(BM_UpsertRemoveAtCrowdedPlace)->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();

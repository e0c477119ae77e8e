// The shared hot index in Redis against the one-key layout the issue measured, on the same 100,000
// points as geo_index_bench (Jakarta, radius 5 km, limit 20), through a real redis-server whose port
// is in REDIS_PORT (bench/redis_geo.sh starts one):
// - BM_OneKey5km: every item in one GEO set; GEOSEARCH ... BYRADIUS 5000 m ASC COUNT 20 WITHDIST
//   gathers every point within 5 km (~7,000 here) before sorting.
// - BM_Cells5km: RedisHotIndex::nearby — the level-13 sets covering 1 km first (one pipelined round
//   trip), then the bodies (MGET): the whole query as browse runs it.
// - BM_Cells5kmCategory: the same with a category (its own sets).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "adapters/redis/redis_hot_index.h"
#include "domain/geo.h"

namespace {

using namespace pahlawan;

const TimePoint kNow = from_unix_ms(1'795'000'000'000);

RedisLink& link() {
  static RedisLink* l = [] {
    const char* port = std::getenv("REDIS_PORT");
    return new RedisLink(RedisEndpoint{"127.0.0.1", port ? std::atoi(port) : 6379, 0}, Millis(5000));
  }();
  return *l;
}

// Loads the points once per process: into the cell sets (RedisHotIndex) and into one key.
RedisHotIndex& loaded() {
  static RedisHotIndex* index = [] {
    auto* idx = new RedisHotIndex(link());
    (void)link().run(RedisCommand{"FLUSHALL"});
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
    std::vector<HotChange> chunk;
    std::vector<RedisCommand> one_key;
    for (size_t i = 0; i < 100000; ++i) {
      auto h = std::make_shared<HotItem>();
      h->surplus.id = "s" + std::to_string(i);
      h->surplus.lat = lat(rng);
      h->surplus.lon = lon(rng);
      h->surplus.cell = cell_id_at(h->surplus.lat, h->surplus.lon, 13);
      h->surplus.category = i % 3 == 0 ? "bakery" : "prepared_meal";
      h->surplus.expires_at = kNow + std::chrono::hours(2);
      // About the size of an item as the API renders it.
      h->json = R"({"id":")" + h->surplus.id + R"(","title":"Nasi goreng","category":")" + h->surplus.category +
                R"(","quantity_kg":5,"status":"available","version":1,"provider_id":"p1"})";
      one_key.push_back(
          {"GEOADD", "onekey", std::to_string(h->surplus.lon), std::to_string(h->surplus.lat), h->surplus.id});
      chunk.push_back(HotChange{std::move(h), false});
      if (chunk.size() == 1000) {
        if (!idx->apply(chunk)) std::abort();
        if (!link().run(one_key)) std::abort();
        chunk.clear();
        one_key.clear();
      }
    }
    if (!idx->set_ready("bench")) std::abort();
    return idx;
  }();
  return *index;
}

void BM_OneKey5km(benchmark::State& state) {
  loaded();
  std::mt19937_64 rng(11 + state.thread_index());
  std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
  size_t hits = 0;
  for (auto _ : state) {
    auto r =
        link().run(RedisCommand{"GEOSEARCH", "onekey", "FROMLONLAT", std::to_string(lon(rng)), std::to_string(lat(rng)),
                                "BYRADIUS", "5000", "m", "ASC", "COUNT", "20", "WITHDIST"});
    if (!r) state.SkipWithError("redis failed");
    hits += (*r)->elements;
  }
  state.counters["hits_per_query"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_OneKey5km)->ThreadRange(1, 2)->UseRealTime();

void cells(benchmark::State& state, std::optional<std::string> category) {
  auto& index = loaded();
  std::mt19937_64 rng(11 + state.thread_index());
  std::uniform_real_distribution<double> lat(-6.37, -6.08), lon(106.68, 106.98);
  size_t hits = 0;
  for (auto _ : state) {
    auto r = index.nearby(NearbyQuery{lat(rng), lon(rng), 5000, 20, category, kNow});
    if (!r) state.SkipWithError("redis failed");
    hits += r->size();
  }
  state.counters["hits_per_query"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}

void BM_Cells5km(benchmark::State& state) {
  cells(state, std::nullopt);
}
BENCHMARK(BM_Cells5km)->ThreadRange(1, 2)->UseRealTime();

void BM_Cells5kmCategory(benchmark::State& state) {
  cells(state, std::string("bakery"));
}
BENCHMARK(BM_Cells5kmCategory)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

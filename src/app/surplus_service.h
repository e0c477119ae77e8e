// SurplusService: the use cases of surplus — post, read, browse nearby, claim, pick up, cancel.
//
// Checks who may do what, validates meaning, and routes each change to the shard actor that owns the
// item's cell. Posting honours Idempotency-Key: the same key and body give the same surplus (even
// when the duplicates arrive concurrently), a reused key with another body is a conflict.
// Thread-safe; replies arrive on the store's thread (or the caller's, for refusals).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/executor.h"
#include "common/ids.h"
#include "domain/party.h"
#include "engine/circuit_breaker.h"
#include "engine/shard_router.h"
#include "engine/tracer.h"
#include "ports/hot_geo_index.h"
#include "ports/ngo_directory.h"
#include "ports/shared_hot_index.h"
#include "ports/store.h"

namespace pahlawan {

struct PostSurplusRequest {
  std::string title, category;
  double quantity_kg = 0;
  std::optional<TimePoint> expires_at;
  std::optional<int64_t> ttl_seconds;
  std::optional<double> lat, lon;
  std::optional<std::string> idempotency_key;
  std::string body_fingerprint;  // hash of the request body, to tell a replay from a reused key
};

struct PostOutcome {
  Surplus surplus;
  bool replayed = false;  // an earlier post with the same Idempotency-Key
};

using PostReply = UniqueFunction<void(Result<PostOutcome>)>;

struct BrowseRequest {
  double lat = 0, lon = 0, radius_m = 5000;
  int limit = 50;
  std::optional<std::string> category;
  std::string traceparent;  // the request's span: the shared copy's query is its child
};

class SurplusService {
 public:
  // --max-post-distance-m: how far from its provider's registered place an item may be posted
  // (0: no bound). REQUIRES: before serving.
  void set_max_post_distance_m(double m) { max_post_distance_m_ = m; }
  // The line GET /v1/waiting lists (none: the list is empty). Set once, before serving.
  void set_waiting_line(const WaitingLine* line) { line_ = line; }
  // Several replicas: this replica's hot index holds only the partitions it owns, so browsing reads
  // every available item near the place from the store (PostGIS), the index's own hits merged in.
  // Set once, before serving.
  void browse_from_store(bool on) { browse_from_store_ = on; }
  // The hot index every replica shares (Redis; docs/replicas.md): browse reads it first, behind a
  // circuit breaker, and falls back to the path above when it fails, is slow or is being rebuilt.
  // Set once, before serving.
  void set_shared_index(SharedHotIndex* shared, CircuitBreaker* breaker, const Tracer* tracer = nullptr) {
    shared_ = shared;
    shared_breaker_ = breaker;
    shared_tracer_ = tracer;
  }
  // Browses answered from the shared copy, and those that fell back (it failed or was refused).
  struct BrowseSources {
    uint64_t shared = 0, fallback = 0;
  };
  BrowseSources browse_sources() const { return {browse_shared_.load(), browse_fallback_.load()}; }
  // Where the use cases that must read the store (a keyed post, a command on an item not open in
  // memory) do that read, so an I/O thread never waits on it; null: on the caller's thread. Set once,
  // before serving.
  void set_read_executor(Executor* reads) { reads_ = reads; }
  // Whether browse will read the store (some available items are older than the hot window): the
  // HTTP layer then calls it where blocking is harmless.
  bool browse_reads_store() const { return shared_ || browse_from_store_ || router_.cold_available() > 0; }
  // A provider's place, learned when this process registered it: its first post reads nothing.
  void learn_provider(const Provider& p);
  // matcher/directory may be null: matching is off, and decline/DLQ operations answer 503.
  SurplusService(ShardRouter& router, Store& store, HotGeoIndex& index, IdGenerator& ids, const Clock& clock,
                 Matcher* matcher = nullptr, NgoDirectory* directory = nullptr)
      : router_(router),
        store_(store),
        index_(index),
        ids_(ids),
        clock_(clock),
        matcher_(matcher),
        directory_(directory) {}

  void post(const Principal& caller, PostSurplusRequest req, std::string traceparent, PostReply reply);
  Result<Surplus> get(const Principal& caller, const std::string& id);
  Result<std::vector<NearbyHit>> browse(const Principal& caller, const BrowseRequest& req);
  void claim(const Principal& caller, std::string id, std::optional<int64_t> if_match, std::string traceparent,
             SurplusReply reply);
  void pickup(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply);
  void cancel(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply);

  // Matching (issue 3): the offers waiting for an NGO, declining one, and the Geo-DLQ.
  Result<std::vector<Surplus>> offers(const Principal& caller);
  // The offers made to the caller after the event `last_event_id` (SSE replay; at most 1000).
  Result<std::vector<Event>> offer_events_since(const Principal& caller, const std::string& last_event_id);
  void decline(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply);
  // One page of the Geo-DLQ (oldest entry first), at most `limit` (1–1000) entries of `region` (if
  // given), after the page token `after` ("" for the first page). `next` is the token of the next
  // page, absent on the last.
  struct DlqPage {
    std::vector<Surplus> items;
    std::optional<std::string> next;
  };
  // The waiting line (admin only), most urgent first: of one region (a level-6 cell token) or all, at
  // most `limit` (1–1000) items.
  Result<std::vector<Surplus>> waiting(const Principal& caller, const std::optional<std::string>& region,
                                       int limit = 200);
  Result<DlqPage> dead_letters(const Principal& caller, const std::optional<std::string>& region, int limit = 200,
                               const std::string& after = "");
  struct Relaxation {
    std::optional<double> radius_m;
    bool include_food_banks = false, ignore_categories = false;
  };
  void retry(const Principal& caller, std::string id, Relaxation relax, std::string traceparent, SurplusReply reply);
  void assign(const Principal& caller, std::string id, const std::string& ngo_id, std::string traceparent,
              SurplusReply reply);

 private:
  double max_post_distance_m_ = 0;
  const WaitingLine* line_ = nullptr;
  bool browse_from_store_ = false;
  SharedHotIndex* shared_ = nullptr;
  CircuitBreaker* shared_breaker_ = nullptr;
  const Tracer* shared_tracer_ = nullptr;
  std::atomic<uint64_t> browse_shared_{0}, browse_fallback_{0};
  // The shared copy's answer, with the cluster's cold items from the store when any exist; nullopt:
  // it failed (the caller falls back).
  std::optional<Result<std::vector<NearbyHit>>> browse_shared(const BrowseRequest& req, TimePoint now);
  // Adds the store's available items near the place created before `created_before` to `hits`.
  Result<std::vector<NearbyHit>> merge_store(std::vector<NearbyHit> hits, const BrowseRequest& req,
                                             TimePoint created_before, TimePoint now);
  // A provider's registered place, read from the store once: it never changes, and the post path
  // should not pay a store read for it.
  Result<std::pair<double, double>> provider_location(const std::string& provider_id);
  std::shared_mutex providers_mu_;
  std::unordered_map<std::string, std::pair<double, double>> provider_at_;  // GUARDED_BY(providers_mu_)
  struct PendingPost {
    std::string fingerprint;
    std::vector<PostReply> waiters;  // duplicates that arrived while the first was in flight
  };
  void insert(const Principal& caller, PostSurplusRequest req, std::string traceparent, PostReply reply);
  void finish_keyed(const std::string& slot, Result<Surplus> result, bool created);
  // Calls `then` with the shard actor that owns item `id` (NotFound if there is no such item). An
  // item open in this process is found in memory, at once; any other is read from the store on the
  // read executor, and the actor is primed with it, so neither this thread nor the actor's turn waits
  // on the store.
  using WithActor = UniqueFunction<void(Result<std::shared_ptr<ShardActor>>)>;
  void with_actor(std::string id, WithActor then);
  void route(std::string id, std::string traceparent, Decide decide, SurplusReply reply);
  // Whether a post will read the store (an Idempotency-Key, or a provider whose place is not known yet).
  bool post_reads_store(const Principal& caller, const PostSurplusRequest& req);
  // Whether a post needs its provider's place: as the item's place, or to bound how far from it.
  bool needs_home(const PostSurplusRequest& req) const { return !req.lat || max_post_distance_m_ > 0; }
  void post_here(const Principal& caller, PostSurplusRequest req, std::string traceparent, PostReply reply);
  Executor* reads_ = nullptr;

  ShardRouter& router_;
  Store& store_;
  HotGeoIndex& index_;
  IdGenerator& ids_;
  const Clock& clock_;
  Matcher* matcher_;
  NgoDirectory* directory_;
  std::mutex keys_mu_;
  std::unordered_map<std::string, std::shared_ptr<PendingPost>> keys_in_flight_;  // GUARDED_BY(keys_mu_)
};

}  // namespace pahlawan

// Store: the durable state of the platform (surplus, parties, idempotency keys, the outbox) behind
// one unit of work.
//
// Contract
// - commit(UnitOfWork) applies every mutation of the unit and appends its events to the outbox
//   atomically, or applies none of it. `done` is called exactly once, after the outcome is durable
//   (fsync'd), on a store-owned thread: it must be quick and must not block (post elsewhere).
// - Units that touch the same item are applied in submission order (a store may commit units of
//   different items concurrently: PostgresStore does, on several connections). An empty unit is a
//   barrier: its `done` runs only after every unit submitted before it has been decided.
// - An update carries the version it expects; a stale one fails the unit with kConflict (optimistic
//   locking: it keeps several replicas on one database correct).
// - A store may refuse a unit when its queue is full (kUnavailable): callers never wait behind an
//   unbounded queue.
// - A unit with a fence commits only while its partition's lease is at the fence's epoch (see
//   LeaseStore, which the same store implements); otherwise it fails alone, kUnavailable, writing
//   nothing — inserts included.
// - Reads are safe from any thread and see only committed data.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/unique_function.h"
#include "domain/event.h"
#include "domain/geo.h"
#include "domain/party.h"
#include "domain/surplus.h"

namespace pahlawan {

struct IdempotencyRecord {
  std::string provider_id, key, body_hash, surplus_id;
  TimePoint created_at;
};

struct Credential {
  Principal principal;
  std::string token_hash;
};

struct SurplusUpdate {
  Surplus after;
  int64_t expected_version = 0;
};

struct UnitOfWork {
  std::vector<Surplus> inserts;
  std::vector<SurplusUpdate> updates;
  std::vector<Event> events;
  std::optional<IdempotencyRecord> idempotency;
  std::optional<std::pair<Provider, std::string>> provider;  // with its token hash
  struct NgoInsert {
    Ngo ngo;
    std::string token_hash;
    std::optional<std::string> webhook_secret;
  };
  std::optional<NgoInsert> ngo;
  // A provider's or NGO's token replaced (rotation) or made unusable (revocation): the party's
  // credential gets this hash. The caller checked that the party exists.
  struct TokenUpdate {
    Principal party;  // kProvider or kNgo, and its id
    std::string token_hash;
  };
  std::optional<TokenUpdate> token;
  std::vector<std::pair<std::string, std::string>> meta;  // key → value
  std::optional<std::pair<std::string, int64_t>> cursor;  // consumer name → last seq handled
  // Retention: deletes idempotency records made before `idempotency_before`, and outbox events that
  // occurred before `outbox_before` and that every consumer (every cursor) is past; at most
  // `max_rows` of each per unit, oldest first, so one sweep never holds the writer for long.
  struct Prune {
    TimePoint idempotency_before;
    TimePoint outbox_before;
    int max_rows = 20000;
    // The consumers whose cursors hold outbox rows back (one missing from the store counts as at
    // 0: nothing is past it); empty: every cursor the store has. A cursor of a consumer no longer
    // running (webhooks, once they ride the bus) must not hold the outbox forever.
    std::vector<std::string> consumers;
  };
  std::optional<Prune> prune;
  // Several replicas: the unit commits only while `partition`'s lease is still at `epoch` (checked
  // inside the transaction), so a replica that lost the partition writes nothing for it.
  struct Fence {
    int64_t partition = 0;
    int64_t epoch = 0;
  };
  std::optional<Fence> fence;
  // Several replicas: an offer that must still fit its NGO's limits when it commits (see
  // OfferBudget); otherwise the unit fails alone, kConflict, writing nothing.
  std::optional<OfferBudget> budget;
  // How a unit fenced out fails, in every store.
  static Status lease_lost(const Fence& f) {
    return Status(ErrorCode::kUnavailable, "this replica no longer holds the lease of partition " +
                                               std::to_string(f.partition) + " (epoch " + std::to_string(f.epoch) +
                                               "): nothing was written");
  }

  bool empty() const {
    return inserts.empty() && updates.empty() && events.empty() && !idempotency && !provider && !ngo && meta.empty() &&
           !cursor && !prune && !token;
  }
};

using CommitDone = UniqueFunction<void(Status)>;

class Store {
 public:
  virtual ~Store() = default;

  virtual void commit(UnitOfWork unit, CommitDone done) = 0;

  virtual Result<std::optional<Surplus>> find_surplus(const std::string& id) = 0;
  // Every item still available or claimed, for rebuilding shard actors and the hot index at start.
  virtual Result<std::vector<Surplus>> load_open_surplus() = 0;
  // The same for one partition's cells (several replicas: what a replica adopts when it gains the
  // partition's lease). `region` is the kRegionLevel cell they lie in, the distribution key.
  virtual Result<std::vector<Surplus>> load_open_surplus_in(CellRange cells, uint64_t region) = 0;
  // How browsing reaches items older than the hot index keeps: the available items within the
  // area's radius of its centre, created before `created_before`, not expired at `now`, nearest
  // first, at most `limit`, read by a spatial index (items elsewhere cost nothing). The area comes
  // twice: as a cap, and as the ranges of shard-level cell ids that cover it, for a store whose
  // index is on the item's cell.
  struct BrowseArea {
    double lat = 0, lon = 0, radius_m = 0;
    std::vector<CellRange> cells;
  };
  virtual Result<std::vector<Surplus>> find_available_near(const BrowseArea& area, TimePoint created_before,
                                                           TimePoint now, const std::optional<std::string>& category,
                                                           int limit) = 0;
  virtual Result<std::optional<IdempotencyRecord>> find_idempotency(const std::string& provider_id,
                                                                    const std::string& key) = 0;

  // Available items whose pending offer is for this NGO.
  virtual Result<std::vector<Surplus>> find_offers_for(const std::string& ngo_id) = 0;
  // Available items in the Geo-DLQ, oldest entry first (by dlq_at, then id), after `after` (a page
  // boundary: the last entry of the previous page), at most `limit`, read by index.
  struct DlqPosition {
    TimePoint at;
    std::string id;
  };
  virtual Result<std::vector<Surplus>> find_dead_letters(const std::optional<DlqPosition>& after, int limit) = 0;
  // Items claimed at or after `since` (to rebuild the NGOs' rolling 24-hour load at start).
  virtual Result<std::vector<Surplus>> find_claimed_since(TimePoint since) = 0;

  virtual Result<std::vector<Credential>> load_credentials() = 0;
  // The current token hash of one provider or NGO (after a rotation, the new one); nullopt: no such
  // party of that role.
  virtual Result<std::optional<Credential>> find_credential(Role role, const std::string& id) = 0;
  virtual Result<std::vector<Ngo>> load_ngos() = 0;
  virtual Result<std::optional<Provider>> find_provider(const std::string& id) = 0;
  virtual Result<std::optional<Ngo>> find_ngo(const std::string& id) = 0;
  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;

  // The outbox, in commit order: events with seq > after_seq, at most `limit`.
  virtual Result<std::vector<Event>> read_outbox(int64_t after_seq, int limit) = 0;
  virtual Result<int64_t> last_outbox_seq() = 0;
  // The replay behind SSE's Last-Event-ID, in commit order, at most `limit`, each read by index:
  // when `after_event_id` is a stored event, the NGO's offers (events with this recipient) after it;
  // when it is unknown (never issued, or pruned), not the NGO's history but the latest offer of each
  // item whose pending offer is for the NGO now.
  virtual Result<std::vector<Event>> read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                                     int limit) = 0;
  virtual Result<int64_t> load_cursor(const std::string& consumer) = 0;

  // Called (on the store's thread, after `done` of the units) whenever committed units appended
  // events: how the relay learns there is something new without polling. Set once, before use.
  virtual void on_events_committed(UniqueFunction<void()> listener) = 0;
};

}  // namespace pahlawan

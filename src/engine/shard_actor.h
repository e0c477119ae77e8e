// ShardActor: the single owner of the surplus of one S2 cell.
//
// Every command for an item of the cell runs on the actor's mailbox (a SerialExecutor over the shared
// pool), one at a time, so two claims of one item are decided in a definite order without locks. The
// actor decides against its in-memory copy, moves that copy forward at once (so the next command sees
// the change), and hands the unit of work to the Store. Replies are sent only once the store has made
// the change durable; a refusal decided against a change still in flight waits for that commit too
// (a barrier), so no client is told "already claimed" about a claim that could still be lost.
// If the store refuses a change (stale version: another replica moved the item; or an I/O error) the
// actor reloads the item from the store.
// Thread-safety: public methods may be called from any thread; they only post to the mailbox.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/clock.h"
#include "common/executor.h"
#include "common/status.h"
#include "domain/surplus_rules.h"
#include "engine/batch_assigner.h"
#include "engine/deadline_queue.h"
#include "engine/lease_keeper.h"
#include "engine/matcher.h"
#include "engine/ngo_ledger.h"
#include "engine/tracer.h"
#include "engine/waiting_line.h"
#include "ports/event_factory.h"
#include "ports/hot_geo_index.h"
#include "ports/store.h"

namespace pahlawan {

using SurplusReply = UniqueFunction<void(Result<Surplus>)>;
// Decides a change of the current item (or refuses it). Runs on the actor's mailbox.
using Decide = UniqueFunction<Result<Decision>(const Surplus& current)>;
// Whether a match should run for the current item: the item to match (possibly adjusted, e.g. with a
// lapsed offer taken off), nullopt to leave it as it is, or a refusal for the caller. Runs on the
// mailbox, before the route request and again after it.
using MatchGate = std::function<Result<std::optional<Surplus>>(const Surplus& current)>;

// What every actor shares. All references outlive the actors.
struct ShardContext {
  Store& store;
  HotGeoIndex& index;
  DeadlineQueue& expiries;
  EventFactory& events;
  Executor& pool;
  const Clock& clock;
  Millis hot_window;                     // available items older than this leave the hot index
  std::atomic<int64_t>& cold_available;  // available items served from the store, across actors
  std::function<void(const std::string& id, uint64_t cell, bool open)> track;  // router's id → cell map
  Matcher* matcher = nullptr;  // null: matching is off (no offers are made)
  NgoLedger* ledger = nullptr;
  WaitingLine* line = nullptr;     // with matching: items waiting for an NGO slot
  BatchAssigner* batch = nullptr;  // with --match-window: matches go through batch windows
  // Several replicas (docs/replicas.md): every unit of work is fenced with the epoch of its cell's
  // partition, and a cell whose partition another replica holds is not served here (kElsewhere).
  // A posted item is matched when its insert commits (no bus consumer does it; a match lost with the
  // process is redone by the partition's next owner when it adopts the item).
  LeaseKeeper* leases = nullptr;
  const Tracer* tracer_ptr = nullptr;  // null: spans are not recorded (contexts are still handed on)
  const Tracer& tracer() const { return tracer_ptr ? *tracer_ptr : untraced(); }
};

// Owned through shared_ptr: every task and callback of the actor holds a reference, so the router can
// tell an actor nobody is using (see ShardRouter::reclaim_idle).
class ShardActor : public std::enable_shared_from_this<ShardActor> {
 public:
  // Items held in memory (open ones, and closed ones while a write of theirs is out). For tests and
  // metrics; REQUIRES: the mailbox is idle (no command running).
  size_t items_held() const { return items_.size() + writes_.size(); }
  ShardActor(uint64_t cell, ShardContext& ctx);

  uint64_t cell() const { return cell_; }
  // Holds no item and runs nothing. With no other reference to the actor, it may be dropped.
  bool reclaimable() const;
  // At shutdown: drops the mailbox's tasks that never ran (each holds the actor; see ~ShardRouter).
  void discard_pending() { mailbox_.discard_pending(); }
  // Takes an item loaded from the store (no write), arming its deadlines. A copy this actor already
  // holds at the same or a later version wins over the loaded one.
  // REQUIRES: start-up, before any command is posted to this actor and before the pool runs it.
  void adopt(Surplus s);
  // Several replicas: this replica gained the partition; its items loaded from the store are adopted
  // on the mailbox (commands may already be running).
  void adopt_gained(std::vector<Surplus> items);
  // Several replicas: the partition was lost; forgets every item (index, line, reservations). Its
  // deadlines still fire, and find nothing this replica may write.
  void drop();
  // Durably inserts a new item (with its posted event and optional idempotency record).
  void insert(Surplus s, std::string traceparent, std::optional<IdempotencyRecord> idempotency, SurplusReply reply);
  // Decides and durably applies a change to an item of this cell.
  void mutate(std::string id, std::string traceparent, Decide decide, SurplusReply reply);
  // Hands the actor an item the caller read from the store (one it does not keep in memory: a
  // finished item, or one another process posted), for the command the caller posts next: that
  // command's turn then reads nothing. Used only if the actor has no copy of its own (a stale one
  // fails its version check at commit); a finished one is forgotten after that command, as usual.
  void prime(Surplus loaded);
  // Moves an available item older than the hot window out of the hot index (it stays claimable).
  void cool(std::string id);
  // Offers an available item without a pending offer to the best eligible NGO, or dead-letters it.
  // `only_if_new`: only an item never offered (a replayed posted event must not offer twice).
  // `traceparent`: the context of what asked for the match (the post's commit), or empty.
  void match(std::string id, bool only_if_new, std::string traceparent = "");
  // The pending offer's deadline came: re-match, excluding every NGO already offered the item.
  void offer_lapsed(std::string id);
  // A batch window's outcome for the item (as it was at `version`): an offer to `ngo_id` if the item
  // is unchanged and the ledger reserves the NGO; otherwise (or with no NGO) a greedy match at once.
  void assigned(std::string id, int64_t version, std::optional<std::string> ngo_id);
  // An operator's retry of a Geo-DLQ entry with relaxed rules; NotFound unless the item is in the DLQ.
  void retry_dead_letter(std::string id, std::string traceparent, MatchPolicy relaxed, SurplusReply reply);

 private:
  // Posts a mailbox turn, keeping the actor alive until it has run and counting what it holds after.
  void turn(Task task);
  // The fence for a unit of work on this cell: none in a single process; with several replicas this
  // replica's epoch of the partition, or the status to answer (kElsewhere, kUnavailable).
  Result<std::optional<UnitOfWork::Fence>> fence();
  void do_mutate(const std::string& id, const std::string& traceparent, Decide& decide, SurplusReply reply);
  // The item, loaded from the store if it is not in memory. REQUIRES: on the mailbox.
  Result<Surplus*> find_item(const std::string& id);
  // Drops a closed item from memory once no write of this actor is in flight. REQUIRES: on the mailbox.
  void forget_if_closed(const std::string& id);
  void write_started(const std::string& id);  // REQUIRES: on the mailbox
  void write_decided(const std::string& id);  // REQUIRES: on the mailbox
  // A match in two mailbox turns around the route request (see Matcher): plan, ask the router, then
  // choose and commit — unless the item changed meanwhile, in which case whatever changed it has
  // started its own follow-up (a claim or expiry closes it, a decline re-matches).
  // `immediate`: even with batch windows on (a window's leftovers, a DLQ retry).
  void run_match(std::string id, std::string traceparent, MatchGate gate, std::optional<MatchPolicy> relaxed,
                 SurplusReply reply, bool immediate = false);
  // Answers without writing, after any write of this actor still in flight has been decided.
  void answer_after_pending(Result<Surplus> result, SurplusReply reply);
  // A change handed to the store, and what follows it once it is decided.
  struct Write {
    Surplus after;
    std::string json;         // the item's rendering, for the hot index
    std::string traceparent;  // the deciding turn's span: what the change causes continues it
    Span commit;              // the store transaction's span
  };
  // A span for a mailbox turn on item `id`, continuing `parent`.
  Span turn_span(const char* name, const std::string& parent, const std::string& id);
  void commit(UnitOfWork unit, Write w, SurplusReply reply);
  void finish(Status st, Write w, SurplusReply reply);
  void on_committed(Write& w);
  void reload(const std::string& id);
  // Keeps the waiting line in step with the item: in it while it waits, out of it otherwise.
  void sync_line(const Surplus& s);
  void make_hot(const Surplus& s, std::string json);  // index it, unless it is cold
  void forget_cold(const std::string& id);
  // Takes an item this actor no longer holds out of the hot index, the cold count and the router's
  // map (the caller erases it from items_). REQUIRES: on the mailbox.
  void unlist(const std::string& id);

  const uint64_t cell_;
  ShardContext& ctx_;
  SerialExecutor mailbox_;
  std::unordered_map<std::string, Surplus> items_;  // mailbox only: open items, and ones changing
  std::unordered_set<std::string> cold_;            // mailbox only: available, older than hot_window
  std::atomic<int> in_flight_{0};                   // writes handed to the store, not yet decided
  std::atomic<uint64_t> failed_writes_{0};          // writes the store refused, ever (see answer_after_pending)
  std::unordered_map<std::string, int> writes_;     // mailbox only: the same, per item (absent: none)
  std::atomic<size_t> held_{0};                     // items_ + writes_ after the last turn
};

}  // namespace pahlawan

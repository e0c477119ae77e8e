#include "engine/shard_actor.h"

#include "domain/geo.h"

#include <algorithm>
#include <tuple>

namespace pahlawan {
namespace {

bool waits(const Surplus& s) {
  return s.waiting_since && s.status == SurplusStatus::kAvailable && !s.offer && !s.dead_lettered;
}

// An item a batch window's assignment may still offer: available, not in the Geo-DLQ, not expired,
// and with no pending offer (one whose deadline has passed is taken off, as offer_lapsed does).
std::optional<Surplus> matchable(const Surplus& s, TimePoint now) {
  if (s.status != SurplusStatus::kAvailable || s.dead_lettered || s.expires_at <= now) return std::nullopt;
  if (s.offer && s.offer->deadline > now) return std::nullopt;
  Surplus out = s;
  out.offer.reset();
  return out;
}

}  // namespace

ShardActor::ShardActor(uint64_t cell, ShardContext& ctx) : cell_(cell), ctx_(ctx), mailbox_(ctx.pool) {}

void ShardActor::turn(Task task) {
  mailbox_.post([this, self = shared_from_this(), task = std::move(task)]() mutable {
    task();
    held_.store(items_.size() + writes_.size(), std::memory_order_relaxed);
  });
}

Result<std::optional<UnitOfWork::Fence>> ShardActor::fence() {
  if (!ctx_.leases) return std::optional<UnitOfWork::Fence>();
  auto f = ctx_.leases->fence_for(partition_of_cell(cell_));
  if (!f) return f.status();
  return std::optional<UnitOfWork::Fence>(*f);
}

bool ShardActor::reclaimable() const {
  return held_.load(std::memory_order_relaxed) == 0 && mailbox_.idle();
}

void ShardActor::adopt_gained(std::vector<Surplus> items) {
  turn([this, items = std::move(items)]() mutable {
    for (auto& s : items) adopt(std::move(s));
  });
}

void ShardActor::drop() {
  turn([this] {
    for (auto& [id, s] : items_) {
      if (ctx_.line && waits(s)) ctx_.line->remove(s);
      if (ctx_.ledger && s.offer) ctx_.ledger->release(id);
      unlist(id);
    }
    items_.clear();
  });
}

void ShardActor::adopt(Surplus s) {
  if (auto it = items_.find(s.id); it != items_.end() && it->second.version >= s.version) s = it->second;
  if (!s.is_open()) return;
  if (s.status == SurplusStatus::kAvailable && s.offer) {
    // A deadline that passed while the server was down lapses at once, through the queue.
    ctx_.expiries.push(Deadline{s.offer->deadline, s.id, cell_, DeadlineKind::kOffer});
    if (ctx_.ledger) ctx_.ledger->force_reserve(s.offer->ngo_id, s.id, s.quantity_kg);
  }
  if (s.status == SurplusStatus::kAvailable) {
    ctx_.expiries.push(Deadline{s.expires_at, s.id, cell_, DeadlineKind::kExpire});
    if (s.created_at + ctx_.hot_window <= ctx_.clock.now()) {
      cold_.insert(s.id);
      ++ctx_.cold_available;
    } else {
      ctx_.expiries.push(Deadline{s.created_at + ctx_.hot_window, s.id, cell_, DeadlineKind::kCool});
      make_hot(s, ctx_.events.payload(s));
    }
  }
  if (ctx_.matcher && s.status == SurplusStatus::kAvailable && !s.offer && !s.dead_lettered && !s.waiting_since) {
    // Neither offered, waiting nor dead-lettered: its match was lost with the process (in flight, or
    // in a batch window). Match it again at start.
    ctx_.expiries.push(Deadline{ctx_.clock.now(), s.id, cell_, DeadlineKind::kMatch});
  }
  if (waits(s) && ctx_.line && ctx_.matcher) {
    ctx_.line->add(s);
    // Slots may have freed while the server was down: look again at once, and at the wait's end.
    ctx_.expiries.push(Deadline{ctx_.clock.now(), s.id, cell_, DeadlineKind::kMatch});
    ctx_.expiries.push(Deadline{ctx_.matcher->wait_deadline(s), s.id, cell_, DeadlineKind::kMatch});
  }
  ctx_.track(s.id, cell_, true);
  const std::string id = s.id;
  items_.insert_or_assign(id, std::move(s));
  held_.store(items_.size(), std::memory_order_relaxed);
}

void ShardActor::insert(Surplus s, std::string traceparent, std::optional<IdempotencyRecord> idempotency,
                        SurplusReply reply) {
  turn([this, s = std::move(s), traceparent = std::move(traceparent), idempotency = std::move(idempotency),
        reply = std::move(reply)]() mutable {
    Span span = turn_span("actor insert", traceparent, s.id);
    auto fenced = fence();
    if (!fenced) return reply(fenced.status());
    UnitOfWork unit;
    unit.fence = *fenced;
    unit.inserts.push_back(s);
    unit.events.push_back(ctx_.events.make(event_type::kPosted, s, span.traceparent()));
    unit.idempotency = std::move(idempotency);
    Write w{s, unit.events.back().data_json, span.traceparent(), {}};
    items_.insert_or_assign(s.id, s);
    ctx_.track(s.id, cell_, true);
    commit(std::move(unit), std::move(w), std::move(reply));
  });
}

void ShardActor::mutate(std::string id, std::string traceparent, Decide decide, SurplusReply reply) {
  turn([this, id = std::move(id), traceparent = std::move(traceparent), decide = std::move(decide),
        reply = std::move(reply)]() mutable { do_mutate(id, traceparent, decide, std::move(reply)); });
}

void ShardActor::prime(Surplus loaded) {
  turn([this, loaded = std::move(loaded)]() mutable {
    if (loaded.cell != cell_) return;
    const std::string id = loaded.id;
    items_.try_emplace(id, std::move(loaded));
  });
}

Result<Surplus*> ShardActor::find_item(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end()) {
    // Not open here (finished items are not kept in memory): the store has the final word.
    auto found = ctx_.store.find_surplus(id);
    if (!found) return found.status();
    if (!*found || (*found)->cell != cell_) return Status(ErrorCode::kNotFound, "no such surplus");
    it = items_.emplace(id, std::move(**found)).first;
  }
  return &it->second;
}

void ShardActor::forget_if_closed(const std::string& id) {
  auto it = items_.find(id);
  // A closed item loaded to answer a command is not kept; while a write of this item is in flight the
  // copy may be ahead of the store, so it stays until that write is decided (and is forgotten then).
  // Only the item's own writes count: under load the actor always has some write in flight.
  if (it != items_.end() && !it->second.is_open() && !writes_.count(id)) items_.erase(it);
}

void ShardActor::write_started(const std::string& id) {
  ++in_flight_;
  ++writes_[id];
}

void ShardActor::write_decided(const std::string& id) {
  auto it = writes_.find(id);
  if (it != writes_.end() && --it->second == 0) writes_.erase(it);
}

void ShardActor::do_mutate(const std::string& id, const std::string& traceparent, Decide& decide, SurplusReply reply) {
  Span span = turn_span("actor decide", traceparent, id);
  // Before anything is read: a replica that does not hold the partition keeps none of its items.
  auto fenced = fence();
  if (!fenced) return reply(fenced.status());
  auto item = find_item(id);
  if (!item) return reply(item.status());
  const auto it = items_.find(id);
  const Surplus current = **item;
  auto decided = decide(current);
  if (!decided) span.fail(decided.status().message());
  if (!decided || !decided->changed) {
    // A waiting item handed back by the line for a freed slot that is gone again: back in line.
    if (waits(current)) sync_line(current);
    forget_if_closed(id);
    if (!decided) return answer_after_pending(decided.status(), std::move(reply));
    return answer_after_pending(current, std::move(reply));
  }

  Surplus after = std::move(decided->after);
  // Out of the line the moment it stops waiting, so no freed slot is spent on it meanwhile.
  if (waits(current) && !waits(after) && ctx_.line) ctx_.line->left(current);
  // What the change means for the NGOs' load: an offer that ended without a new one releases its
  // reservation (a new offer's replaced it when the matcher reserved it), a claim counts against the
  // claimer's rolling 24 hours. If the commit fails, reload() sets the item's reservation back to
  // what the store says.
  if (ctx_.ledger) {
    if (current.offer && !after.offer) ctx_.ledger->release(after.id);
    if (after.status == SurplusStatus::kClaimed && current.status != SurplusStatus::kClaimed && after.claimed_by) {
      ctx_.ledger->record_claim(*after.claimed_by, after.id, after.quantity_kg,
                                after.claimed_at.value_or(after.created_at));
    }
  }
  UnitOfWork unit;
  unit.fence = *fenced;
  // Several replicas offer to one NGO: its limits are checked again in the commit, across them all.
  if (ctx_.leases) unit.budget = decided->budget;
  unit.updates.push_back(SurplusUpdate{after, current.version});
  span.set("pahlawan.event", decided->event_type);
  unit.events.push_back(ctx_.events.make(decided->event_type, after, span.traceparent()));
  Write w{after, unit.events.back().data_json, span.traceparent(), {}};
  it->second = std::move(after);
  // Browsers must stop seeing an item the moment it stops being available, not after the fsync.
  if (w.after.status != SurplusStatus::kAvailable) ctx_.index.remove(id);
  commit(std::move(unit), std::move(w), std::move(reply));
}

Span ShardActor::turn_span(const char* name, const std::string& parent, const std::string& id) {
  Span span = ctx_.tracer().start(name, SpanKind::kInternal, parent);
  span.set("pahlawan.surplus_id", id);
  span.set("pahlawan.cell", std::to_string(cell_));
  return span;
}

void ShardActor::commit(UnitOfWork unit, Write w, SurplusReply reply) {
  // The store transaction as the actor sees it: queued for the group commit, then made durable.
  w.commit = ctx_.tracer().start("store commit", SpanKind::kClient, w.traceparent);
  w.commit.set("db.operation", unit.inserts.empty() ? "update" : "insert");
  write_started(w.after.id);
  ctx_.store.commit(std::move(unit),
                    [this, self = shared_from_this(), w = std::move(w), reply = std::move(reply)](Status st) mutable {
                      if (!st.is_ok()) w.commit.fail(st.message());
                      w.commit.end();
                      finish(std::move(st), std::move(w), std::move(reply));
                    });
}

// Runs on the store's thread, which is the one serial resource of the write path: it only hands the
// outcome over. The index update and the reply (which renders JSON) run on the mailbox, where they are
// ordered with the decisions made since.
void ShardActor::finish(Status st, Write w, SurplusReply reply) {
  if (!st.is_ok()) {
    // Counted here, before any barrier queued after this write is answered (see answer_after_pending).
    failed_writes_.fetch_add(1);
    // in_flight_ stays raised until the reload has run, so no refusal is answered from the stale copy.
    return turn([this, st = std::move(st), id = w.after.id, reply = std::move(reply)]() mutable {
      write_decided(id);
      reload(id);
      --in_flight_;
      reply(std::move(st));
    });
  }
  --in_flight_;
  turn([this, w = std::move(w), reply = std::move(reply)]() mutable {
    write_decided(w.after.id);
    on_committed(w);
    forget_if_closed(w.after.id);  // a closed copy kept only while this write was out
    reply(std::move(w.after));
  });
}

void ShardActor::answer_after_pending(Result<Surplus> result, SurplusReply reply) {
  if (in_flight_ == 0) return reply(std::move(result));
  // The answer was decided against the copy those writes made. If one of them fails (fenced out, an
  // NGO's budget refused, the store down) that copy never existed: "already yours" or a version
  // nobody will ever read again would be untrue, so the caller is told to ask again.
  const uint64_t failed_before = failed_writes_.load();
  ctx_.store.commit(UnitOfWork{}, [this, self = shared_from_this(), failed_before, result = std::move(result),
                                   reply = std::move(reply)](Status) mutable {
    if (failed_writes_.load() != failed_before) {
      return reply(Status(ErrorCode::kUnavailable, "the item changed while this was decided; retry"));
    }
    reply(std::move(result));
  });
}

// Runs on the mailbox once `after` is durable. A newer change decided meanwhile has already updated
// the index (or will, when it commits), so only the latest version touches it.
void ShardActor::on_committed(Write& w) {
  const Surplus& after = w.after;
  if (ctx_.matcher) ctx_.matcher->committed(after);
  if (after.version == 1) {
    ctx_.expiries.push(Deadline{after.expires_at, after.id, cell_, DeadlineKind::kExpire});
    ctx_.expiries.push(Deadline{after.created_at + ctx_.hot_window, after.id, cell_, DeadlineKind::kCool});
    if (ctx_.leases) match(after.id, true, w.traceparent);  // several replicas: no bus consumer matches posts
  }
  if (after.status != SurplusStatus::kAvailable) forget_cold(after.id);
  if (after.status == SurplusStatus::kAvailable && after.offer) {
    ctx_.expiries.push(Deadline{after.offer->deadline, after.id, cell_, DeadlineKind::kOffer});
  }
  auto it = items_.find(after.id);
  if (it == items_.end() || it->second.version != after.version) return;
  if (waits(after) && ctx_.matcher) {
    // Only the decision that made it wait commits a waiting version: the line takes it, the wait gets
    // its end, and one more match looks again — a slot freed between that decision and now found an
    // empty line, and must not be missed.
    sync_line(after);
    ctx_.expiries.push(Deadline{ctx_.matcher->wait_deadline(after), after.id, cell_, DeadlineKind::kMatch});
    match(after.id, false, w.traceparent);
  }
  if (after.status == SurplusStatus::kAvailable) {
    make_hot(after, std::move(w.json));
  } else if (!after.is_open()) {
    ctx_.track(after.id, cell_, false);
    items_.erase(it);  // finished items are not kept in memory; the store has them
  }
}

void ShardActor::match(std::string id, bool only_if_new, std::string traceparent) {
  if (!ctx_.matcher) return;
  run_match(
      std::move(id), std::move(traceparent),
      [this, only_if_new](const Surplus& s) -> Result<std::optional<Surplus>> {
        const bool open =
            s.status == SurplusStatus::kAvailable && !s.offer && !s.dead_lettered && s.expires_at > ctx_.clock.now();
        if (!open || (only_if_new && !s.offered_to.empty())) return std::optional<Surplus>();
        return std::optional<Surplus>(s);
      },
      std::nullopt, [](Result<Surplus>) {});
}

void ShardActor::offer_lapsed(std::string id) {
  if (!ctx_.matcher) return;
  run_match(
      std::move(id), "",
      [this](const Surplus& s) -> Result<std::optional<Surplus>> {
        const TimePoint now = ctx_.clock.now();
        if (s.status != SurplusStatus::kAvailable || !s.offer || s.offer->deadline > now || s.expires_at <= now) {
          return std::optional<Surplus>();  // claimed, declined or re-offered meanwhile: a stale deadline
        }
        Surplus lapsed = s;
        lapsed.offer.reset();
        return std::optional<Surplus>(std::move(lapsed));
      },
      std::nullopt, [](Result<Surplus>) {});
}

void ShardActor::retry_dead_letter(std::string id, std::string traceparent, MatchPolicy relaxed, SurplusReply reply) {
  if (!ctx_.matcher) return reply(Status(ErrorCode::kUnavailable, "matching is not running"));
  run_match(
      std::move(id), std::move(traceparent),
      [](const Surplus& s) -> Result<std::optional<Surplus>> {
        if (!s.dead_lettered || s.status != SurplusStatus::kAvailable) {
          return Status(ErrorCode::kNotFound, "no such Geo-DLQ entry");
        }
        return std::optional<Surplus>(s);
      },
      std::move(relaxed), std::move(reply), true);
}

void ShardActor::assigned(std::string id, int64_t version, std::optional<std::string> ngo_id) {
  turn([this, id = std::move(id), version, ngo_id = std::move(ngo_id)]() mutable {
    if (!fence()) return;  // another replica's partition now: it re-matches the item
    auto item = find_item(id);
    if (!item) return;
    const auto ready = matchable(**item, ctx_.clock.now());
    if (!ready) return forget_if_closed(id);  // claimed, expired, re-offered... meanwhile
    if (ngo_id && (*item)->version == version && ctx_.matcher) {
      if (auto offer = ctx_.matcher->offer_if_room(*ready, *ngo_id)) {
        Decide apply = [d = std::move(*offer)](const Surplus&) -> Result<Decision> { return d; };
        return do_mutate(id, "", apply, [](Result<Surplus>) {});
      }
    }
    const TimePoint now = ctx_.clock.now();
    run_match(
        id, "", [now](const Surplus& s) -> Result<std::optional<Surplus>> { return matchable(s, now); }, std::nullopt,
        [](Result<Surplus>) {}, true);
  });
}

void ShardActor::run_match(std::string id, std::string traceparent, MatchGate gate, std::optional<MatchPolicy> relaxed,
                           SurplusReply reply, bool immediate) {
  turn([this, id = std::move(id), traceparent = std::move(traceparent), gate = std::move(gate),
        relaxed = std::move(relaxed), reply = std::move(reply), immediate]() mutable {
    // The match's first turn; the route request and the decision that follows are its children.
    Span span = turn_span("actor match", traceparent, id);
    traceparent = span.traceparent();
    if (auto fenced = fence(); !fenced) return reply(fenced.status());
    auto item = find_item(id);
    if (!item) return reply(item.status());
    const Surplus current = **item;
    auto gated = gate(current);
    if (!gated || !*gated) {
      forget_if_closed(id);
      if (!gated) return answer_after_pending(gated.status(), std::move(reply));
      return answer_after_pending(current, std::move(reply));
    }
    // With batch windows the item joins its region's window; the window's outcome comes back through
    // assigned().
    if (ctx_.batch && !immediate && !relaxed) {
      ctx_.batch->enqueue(**gated);
      return reply(current);
    }
    auto step = ctx_.matcher->plan(**gated, relaxed ? &*relaxed : nullptr);
    if (auto* decided = std::get_if<Decision>(&step)) {
      Decide apply = [d = std::move(*decided)](const Surplus&) -> Result<Decision> { return d; };
      return do_mutate(id, traceparent, apply, std::move(reply));
    }
    auto plan = std::make_shared<const MatchPlan>(std::move(std::get<MatchPlan>(step)));
    // The second step, for the item as it is when the travel times are in.
    auto choose = [this, gate = std::move(gate), plan, version = current.version](RouteAnswer times) -> Decide {
      return [this, gate, plan, version, times = std::move(times)](const Surplus& now) -> Result<Decision> {
        if (now.version != version) return Status(ErrorCode::kConflict, "the item changed while it was being matched");
        auto again = gate(now);
        if (!again) return again.status();
        if (!*again) return Decision{now, false, nullptr};
        return ctx_.matcher->choose(**again, *plan, times);
      };
    };
    // A local estimator answers before estimate() returns: then the second step runs here, in this
    // mailbox turn. A networked one answers later on its own thread, which only posts the second step
    // to the mailbox. Whichever side comes second to `state` takes the answer on.
    struct Handoff {
      std::atomic<int> state{0};  // 0: nobody yet; 1: answered first (inline); 2: estimate() returned first
      std::optional<RouteAnswer> answer;
    };
    auto handoff = std::make_shared<Handoff>();
    // What the second step needs if it runs later; the reply moves in before the race below starts.
    auto later =
        std::make_shared<std::tuple<std::string, std::string, SurplusReply>>(id, traceparent, std::move(reply));
    auto route_span = std::make_shared<Span>(ctx_.tracer().start("route estimate", SpanKind::kClient, traceparent));
    route_span->set("pahlawan.destinations", static_cast<int64_t>(plan->destinations.size()));
    ctx_.matcher->routes().estimate(
        GeoPoint{current.lat, current.lon}, plan->destinations,
        [this, self = shared_from_this(), handoff, later, choose, route_span](RouteAnswer times) mutable {
          route_span->end();
          int expected = 0;
          handoff->answer = std::move(times);
          if (handoff->state.compare_exchange_strong(expected, 1)) return;
          auto& [lid, ltrace, lreply] = *later;
          mutate(std::move(lid), std::move(ltrace), choose(std::move(*handoff->answer)), std::move(lreply));
        });
    int expected = 0;
    if (handoff->state.compare_exchange_strong(expected, 2)) return;  // the answer comes later, and replies
    Decide now = choose(std::move(*handoff->answer));
    do_mutate(id, traceparent, now, std::move(std::get<2>(*later)));
  });
}

void ShardActor::sync_line(const Surplus& s) {
  if (!ctx_.line) return;
  if (waits(s)) {
    ctx_.line->add(s);
  } else {
    ctx_.line->remove(s);
  }
}

void ShardActor::make_hot(const Surplus& s, std::string json) {
  if (cold_.count(s.id)) return;  // browsing finds it through the store now
  ctx_.index.upsert(std::make_shared<const HotItem>(HotItem{s, std::move(json)}));
}

void ShardActor::unlist(const std::string& id) {
  ctx_.index.remove(id);
  forget_cold(id);
  ctx_.track(id, cell_, false);
}

void ShardActor::forget_cold(const std::string& id) {
  if (cold_.erase(id)) --ctx_.cold_available;
}

void ShardActor::cool(std::string id) {
  turn([this, id = std::move(id)] {
    auto it = items_.find(id);
    if (it == items_.end() || it->second.status != SurplusStatus::kAvailable || cold_.count(id)) return;
    if (it->second.created_at + ctx_.hot_window > ctx_.clock.now()) return;
    ctx_.index.remove(id);
    cold_.insert(id);
    ++ctx_.cold_available;
  });
}

// Runs on the mailbox after a refused write: the in-memory copy is ahead of the store; take the
// store's word again.
void ShardActor::reload(const std::string& id) {
  if (!fence()) {
    // Fenced out, or the partition went elsewhere: its next owner holds the item now.
    items_.erase(id);
    unlist(id);
    return;
  }
  auto found = ctx_.store.find_surplus(id);
  if (!found) {
    items_.erase(id);  // store unreachable: the next command reloads on the miss
    return;
  }
  if (!*found) {
    if (ctx_.ledger) {
      ctx_.ledger->release(id);
      ctx_.ledger->forget_claim(id);
    }
    items_.erase(id);
    unlist(id);
    return;
  }
  Surplus s = std::move(**found);
  // The failed write may have ended an offer, made one, or claimed the item: the store's word decides.
  if (ctx_.ledger) ctx_.ledger->follow(s);
  if (s.status == SurplusStatus::kAvailable && !s.dead_lettered && ctx_.matcher) {
    // The failed write may have been a match: an offer's escalation, whose deadline has fired already,
    // or an item's first offer. Queue it again, a second on, so a store that keeps failing is not
    // hammered in a loop. (A match that finds the item already offered changes nothing.)
    const TimePoint retry_at = ctx_.clock.now() + std::chrono::seconds(1);
    if (s.offer) {
      ctx_.expiries.push(Deadline{std::max(s.offer->deadline, retry_at), s.id, cell_, DeadlineKind::kOffer});
    } else {
      ctx_.expiries.push(Deadline{retry_at, s.id, cell_, DeadlineKind::kMatch});
    }
  }
  if (s.status == SurplusStatus::kAvailable) {
    make_hot(s, ctx_.events.payload(s));
  } else {
    ctx_.index.remove(id);
    forget_cold(id);
  }
  sync_line(s);
  const bool open = s.is_open();
  items_.insert_or_assign(id, std::move(s));
  if (!open) {
    ctx_.track(id, cell_, false);
    forget_if_closed(id);
  }
}

}  // namespace pahlawan

#include "app/surplus_service.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "app/json_render.h"
#include "domain/event.h"
#include "domain/geo.h"
#include "domain/validation.h"

namespace pahlawan {
namespace {

constexpr double kMaxBrowseRadiusM = 50000;
constexpr int kMaxBrowseLimit = 500;

Status forbidden(const char* why) {
  return {ErrorCode::kForbidden, why};
}

}  // namespace

void SurplusService::post(const Principal& caller, PostSurplusRequest req, std::string traceparent, PostReply reply) {
  if (caller.role != Role::kProvider) return reply(forbidden("only providers post surplus"));
  if (reads_ && post_reads_store(caller, req)) {
    return reads_->post(
        [this, caller, req = std::move(req), traceparent = std::move(traceparent), reply = std::move(reply)]() mutable {
          post_here(caller, std::move(req), std::move(traceparent), std::move(reply));
        });
  }
  post_here(caller, std::move(req), std::move(traceparent), std::move(reply));
}

bool SurplusService::post_reads_store(const Principal& caller, const PostSurplusRequest& req) {
  if (req.idempotency_key) return true;
  if (!needs_home(req)) return false;
  std::shared_lock lock(providers_mu_);
  return !provider_at_.count(caller.id);
}

void SurplusService::post_here(const Principal& caller, PostSurplusRequest req, std::string traceparent,
                               PostReply reply) {
  if (!req.idempotency_key) return insert(caller, std::move(req), std::move(traceparent), std::move(reply));

  if (req.idempotency_key->empty() || req.idempotency_key->size() > 255) {
    return reply(invalid("Idempotency-Key must be 1 to 255 characters"));
  }
  const std::string slot = caller.id + '\n' + *req.idempotency_key;
  {
    std::lock_guard lock(keys_mu_);
    auto it = keys_in_flight_.find(slot);
    if (it != keys_in_flight_.end()) {
      if (it->second->fingerprint != req.body_fingerprint) {
        return reply(Status(ErrorCode::kConflict, "Idempotency-Key was used with a different body"));
      }
      it->second->waiters.push_back(std::move(reply));
      return;
    }
    auto pending = std::make_shared<PendingPost>();
    pending->fingerprint = req.body_fingerprint;
    pending->waiters.push_back(std::move(reply));
    keys_in_flight_.emplace(slot, std::move(pending));
  }
  // This request now owns the key within the process; the store decides against earlier processes.
  auto earlier = store_.find_idempotency(caller.id, *req.idempotency_key);
  if (!earlier) return finish_keyed(slot, earlier.status(), false);
  if (*earlier) {
    if ((*earlier)->body_hash != req.body_fingerprint) {
      return finish_keyed(slot, Status(ErrorCode::kConflict, "Idempotency-Key was used with a different body"), false);
    }
    auto found = store_.find_surplus((*earlier)->surplus_id);
    if (!found) return finish_keyed(slot, found.status(), false);
    if (!*found) return finish_keyed(slot, Status(ErrorCode::kInternal, "idempotent surplus vanished"), false);
    return finish_keyed(slot, std::move(**found), false);
  }
  insert(caller, std::move(req), std::move(traceparent), [this, slot](Result<PostOutcome> r) mutable {
    finish_keyed(slot, r ? Result<Surplus>(r->surplus) : Result<Surplus>(r.status()), true);
  });
}

void SurplusService::finish_keyed(const std::string& slot, Result<Surplus> result, bool created) {
  std::shared_ptr<PendingPost> pending;
  {
    std::lock_guard lock(keys_mu_);
    auto it = keys_in_flight_.find(slot);
    if (it == keys_in_flight_.end()) return;
    pending = std::move(it->second);
    keys_in_flight_.erase(it);
  }
  // The first waiter is the request that owned the key: it alone may be answered "created".
  bool first = created;
  for (auto& waiter : pending->waiters) {
    if (result) {
      waiter(PostOutcome{*result, !first});
    } else {
      waiter(result.status());
    }
    first = false;
  }
}

void SurplusService::insert(const Principal& caller, PostSurplusRequest req, std::string traceparent, PostReply reply) {
  const TimePoint now = clock_.now();
  for (Status s :
       {validate_name("title", req.title), validate_category(req.category), validate_quantity(req.quantity_kg)}) {
    if (!s) return reply(s);
  }
  if (req.expires_at.has_value() == req.ttl_seconds.has_value()) {
    return reply(invalid("give exactly one of expires_at and ttl_seconds"));
  }
  if (req.ttl_seconds && (*req.ttl_seconds <= 0 || *req.ttl_seconds > 7 * 24 * 3600)) {
    return reply(invalid("ttl_seconds must be between 1 and 604800"));
  }
  const TimePoint expires_at = req.expires_at ? *req.expires_at : now + std::chrono::seconds(*req.ttl_seconds);
  if (Status s = validate_expiry(expires_at, now); !s) return reply(s);
  if (req.lat.has_value() != req.lon.has_value()) return reply(invalid("give both lat and lon, or neither"));
  // The provider's place: the default location, and the bound on how far from it an item may be.
  std::optional<std::pair<double, double>> home;
  if (needs_home(req)) {
    auto found = provider_location(caller.id);
    if (!found) return reply(found.status());
    home = *found;
  }
  if (!req.lat) {
    req.lat = home->first;
    req.lon = home->second;
  }
  if (Status s = validate_coordinates(*req.lat, *req.lon); !s) return reply(s);
  // A provider posts where it is: one token scattering items across a continent (far from any NGO,
  // or to load every browse far away) is refused.
  if (max_post_distance_m_ > 0 && haversine_m(*req.lat, *req.lon, home->first, home->second) > max_post_distance_m_) {
    return reply(invalid("the item's place is more than " + std::to_string(static_cast<int64_t>(max_post_distance_m_)) +
                         " m from the provider's"));
  }

  Surplus s;
  s.id = ids_.next();
  s.provider_id = caller.id;
  s.title = std::move(req.title);
  s.category = std::move(req.category);
  s.quantity_kg = kg_of(grams_of(req.quantity_kg));  // exact to the gram
  s.lat = *req.lat;
  s.lon = *req.lon;
  s.cell = cell_id_at(s.lat, s.lon, router_.level());
  s.created_at = now;
  s.expires_at = expires_at;
  std::optional<IdempotencyRecord> idem;
  if (req.idempotency_key) {
    idem = IdempotencyRecord{caller.id, *req.idempotency_key, req.body_fingerprint, s.id, now};
  }
  const uint64_t cell = s.cell;
  router_.actor_for_cell(cell)->insert(std::move(s), std::move(traceparent), std::move(idem),
                                       [reply = std::move(reply)](Result<Surplus> r) mutable {
                                         if (r) {
                                           reply(PostOutcome{std::move(*r), false});
                                         } else {
                                           reply(r.status());
                                         }
                                       });
}

void SurplusService::learn_provider(const Provider& p) {
  std::unique_lock lock(providers_mu_);
  provider_at_.emplace(p.id, std::make_pair(p.lat, p.lon));
}

Result<std::pair<double, double>> SurplusService::provider_location(const std::string& provider_id) {
  {
    std::shared_lock lock(providers_mu_);
    if (auto it = provider_at_.find(provider_id); it != provider_at_.end()) return it->second;
  }
  auto provider = store_.find_provider(provider_id);
  if (!provider) return provider.status();
  if (!*provider) return Status(ErrorCode::kUnauthorized, "provider no longer exists");
  const std::pair<double, double> at{(*provider)->lat, (*provider)->lon};
  std::unique_lock lock(providers_mu_);
  provider_at_.emplace(provider_id, at);
  return at;
}

Result<Surplus> SurplusService::get(const Principal& caller, const std::string& id) {
  if (caller.role == Role::kNone) return Status(forbidden("no role"));
  auto found = store_.find_surplus(id);
  if (!found) return found.status();
  if (!*found) return Status(ErrorCode::kNotFound, "no such surplus");
  return std::move(**found);
}

Result<std::vector<NearbyHit>> SurplusService::browse(const Principal& caller, const BrowseRequest& req) {
  if (caller.role != Role::kNgo && caller.role != Role::kAdmin) {
    return Status(forbidden("providers do not browse surplus"));
  }
  if (Status s = validate_coordinates(req.lat, req.lon); !s) return s;
  if (!(req.radius_m > 0 && req.radius_m <= kMaxBrowseRadiusM)) return invalid("radius_m must be in (0, 50000]");
  if (req.limit < 1 || req.limit > kMaxBrowseLimit) return invalid("limit must be in [1, 500]");
  if (req.category) {
    if (Status s = validate_category(*req.category); !s) return s;
  }
  const TimePoint now = clock_.now();
  if (shared_) {
    if (auto answer = browse_shared(req, now)) {
      ++browse_shared_;
      return std::move(*answer);
    }
    ++browse_fallback_;
  }
  auto hits = index_.nearby(NearbyQuery{req.lat, req.lon, req.radius_m, req.limit, req.category, now});
  if (router_.cold_available() == 0 && !browse_from_store_) return hits;
  // Some available items are older than the hot window (or, with several replicas, in another
  // replica's index): the store has them.
  const TimePoint created_before = browse_from_store_ ? now + std::chrono::seconds(1) : now - router_.hot_window();
  return merge_store(std::move(hits), req, created_before, now);
}

std::optional<Result<std::vector<NearbyHit>>> SurplusService::browse_shared(const BrowseRequest& req, TimePoint now) {
  if (!shared_breaker_->allow()) return std::nullopt;
  const auto started = std::chrono::steady_clock::now();
  Span span = shared_tracer_ ? shared_tracer_->start("redis nearby", SpanKind::kClient, req.traceparent) : Span();
  span.set("db.system", "redis");
  auto hits = shared_->nearby(NearbyQuery{req.lat, req.lon, req.radius_m, req.limit, req.category, now});
  auto cold = hits ? shared_->cold_total(now) : Result<int64_t>(hits.status());
  if (!hits || !cold) {
    span.fail(hits ? cold.status().message() : hits.status().message());
    shared_breaker_->record_failure();
    return std::nullopt;
  }
  span.set("pahlawan.hits", static_cast<int64_t>(hits->size()));
  span.end();
  shared_breaker_->record_success(std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started));
  if (*cold == 0) return std::move(*hits);
  // The copy holds the hot window; older available items (some replica counts them) are the store's.
  return merge_store(std::move(*hits), req, now - router_.hot_window(), now);
}

Result<std::vector<NearbyHit>> SurplusService::merge_store(std::vector<NearbyHit> hits, const BrowseRequest& req,
                                                           TimePoint created_before, TimePoint now) {
  const Store::BrowseArea area{req.lat, req.lon, req.radius_m,
                               covering_ranges(req.lat, req.lon, req.radius_m, router_.level())};
  auto cold = store_.find_available_near(area, created_before, now, req.category, req.limit);
  if (!cold) return cold.status();
  std::unordered_set<std::string> seen;
  for (const auto& h : hits) seen.insert(h.item->surplus.id);
  for (auto& s : *cold) {
    const double d = haversine_m(req.lat, req.lon, s.lat, s.lon);
    if (d > req.radius_m || seen.count(s.id)) continue;
    std::string json = render_surplus(s);
    hits.push_back(NearbyHit{std::make_shared<const HotItem>(HotItem{std::move(s), std::move(json)}), d});
  }
  std::sort(hits.begin(), hits.end(),
            [](const NearbyHit& a, const NearbyHit& b) { return a.distance_m < b.distance_m; });
  if (static_cast<int>(hits.size()) > req.limit) hits.resize(static_cast<size_t>(req.limit));
  return hits;
}

void SurplusService::with_actor(std::string id, WithActor then) {
  if (auto cell = router_.known_cell(id)) return then(router_.actor_for_cell(*cell));
  auto read = [this, id = std::move(id), then = std::move(then)]() mutable {
    auto found = store_.find_surplus(id);
    if (!found) return then(found.status());
    if (!*found) return then(Status(ErrorCode::kNotFound, "no such surplus"));
    auto actor = router_.actor_for_cell((*found)->cell);
    actor->prime(std::move(**found));
    then(std::move(actor));
  };
  if (reads_) return reads_->post(std::move(read));
  read();
}

void SurplusService::route(std::string id, std::string traceparent, Decide decide, SurplusReply reply) {
  with_actor(id, [id, traceparent = std::move(traceparent), decide = std::move(decide),
                  reply = std::move(reply)](Result<std::shared_ptr<ShardActor>> actor) mutable {
    if (!actor) return reply(actor.status());
    (*actor)->mutate(std::move(id), std::move(traceparent), std::move(decide), std::move(reply));
  });
}

void SurplusService::claim(const Principal& caller, std::string id, std::optional<int64_t> if_match,
                           std::string traceparent, SurplusReply reply) {
  if (caller.role != Role::kNgo) return reply(forbidden("only NGOs claim surplus"));
  route(
      std::move(id), std::move(traceparent),
      [this, ngo = caller.id, if_match](const Surplus& s) { return decide_claim(s, ngo, clock_.now(), if_match); },
      std::move(reply));
}

void SurplusService::pickup(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply) {
  if (caller.role != Role::kNgo && caller.role != Role::kProvider) {
    return reply(forbidden("pickup is confirmed by the NGO or the provider"));
  }
  route(
      std::move(id), std::move(traceparent),
      [this, caller](const Surplus& s) -> Result<Decision> {
        const bool allowed = (caller.role == Role::kProvider && s.provider_id == caller.id) ||
                             (caller.role == Role::kNgo && s.claimed_by == caller.id);
        if (!allowed) return forbidden("only the claiming NGO or the provider may confirm pickup");
        return decide_pickup(s, clock_.now());
      },
      std::move(reply));
}

void SurplusService::cancel(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply) {
  if (caller.role != Role::kProvider) return reply(forbidden("only the owning provider cancels surplus"));
  route(
      std::move(id), std::move(traceparent),
      [this, provider = caller.id](const Surplus& s) -> Result<Decision> {
        if (s.provider_id != provider) return forbidden("only the owning provider cancels surplus");
        return decide_cancel(s, clock_.now());
      },
      std::move(reply));
}

Result<std::vector<Surplus>> SurplusService::offers(const Principal& caller) {
  if (caller.role != Role::kNgo) return Status(forbidden("only NGOs have offers"));
  auto items = store_.find_offers_for(caller.id);
  if (!items) return items.status();
  const TimePoint now = clock_.now();
  std::erase_if(*items, [&](const Surplus& s) { return s.expires_at <= now; });
  return items;
}

Result<std::vector<Event>> SurplusService::offer_events_since(const Principal& caller,
                                                              const std::string& last_event_id) {
  if (caller.role != Role::kNgo) return Status(forbidden("event streams are for NGOs"));
  if (last_event_id.size() > 64) return invalid("Last-Event-ID is not an event id");
  // Without Last-Event-ID a new stream starts from now: only reconnecting clients replay.
  if (last_event_id.empty()) return std::vector<Event>{};
  return store_.read_offers_for(caller.id, last_event_id, 1000);
}

void SurplusService::decline(const Principal& caller, std::string id, std::string traceparent, SurplusReply reply) {
  if (caller.role != Role::kNgo) return reply(forbidden("only the NGO holding the offer declines it"));
  if (!matcher_) return reply(Status(ErrorCode::kUnavailable, "matching is not running"));
  route(
      std::move(id), std::move(traceparent),
      [ngo = caller.id](const Surplus& s) -> Result<Decision> {
        if (s.status != SurplusStatus::kAvailable) {
          return Status(ErrorCode::kGone, std::string("surplus is ") + status_name(s.status));
        }
        if (!s.offer || s.offer->ngo_id != ngo) return forbidden("only the NGO holding the offer declines it");
        Surplus after = s;
        after.version += 1;
        after.offer.reset();
        return Decision{std::move(after), true, event_type::kDeclined};
      },
      [this, reply = std::move(reply)](Result<Surplus> r) mutable {
        // The next offer goes out at once, excluding every NGO already offered the item.
        if (r) router_.actor_for_cell(r->cell)->match(r->id, false);
        reply(std::move(r));
      });
}

Result<std::vector<Surplus>> SurplusService::waiting(const Principal& caller, const std::optional<std::string>& region,
                                                     int limit) {
  if (caller.role != Role::kAdmin) return Status(forbidden("only the admin reads the waiting line"));
  if (limit < 1 || limit > 1000) return invalid("limit must be in [1, 1000]");
  if (!line_) return std::vector<Surplus>();
  return line_->list(region, static_cast<size_t>(limit));
}

Result<SurplusService::DlqPage> SurplusService::dead_letters(const Principal& caller,
                                                             const std::optional<std::string>& region, int limit,
                                                             const std::string& after) {
  if (caller.role != Role::kAdmin) return Status(forbidden("only the admin reads the Geo-DLQ"));
  if (limit < 1 || limit > 1000) return invalid("limit must be in [1, 1000]");
  // The page token is "<dlq_at in ms>.<id>" of the last entry shown.
  std::optional<Store::DlqPosition> position;
  if (!after.empty()) {
    const auto dot = after.find('.');
    int64_t ms = 0;
    const auto [end, ec] = std::from_chars(after.data(), after.data() + (dot == std::string::npos ? 0 : dot), ms);
    if (dot == std::string::npos || ec != std::errc() || end != after.data() + dot || dot + 1 >= after.size()) {
      return invalid("'after' is not a page token from a previous answer");
    }
    position = Store::DlqPosition{from_unix_ms(ms), after.substr(dot + 1)};
  }
  const TimePoint now = clock_.now();
  DlqPage page;
  // Entries of other regions (or expired ones) are skipped, so a page may take more than one read;
  // each read is a bounded index range, and the scan stops at `limit` entries plus one.
  for (;;) {
    auto batch = store_.find_dead_letters(position, limit + 1);
    if (!batch) return batch.status();
    for (auto& s : *batch) {
      position = Store::DlqPosition{s.dlq_at.value_or(TimePoint{}), s.id};
      if (s.expires_at <= now || (region && dlq_region(s) != *region)) continue;
      if (static_cast<int>(page.items.size()) == limit) {
        const Surplus& last = page.items.back();
        page.next = std::to_string(to_unix_ms(last.dlq_at.value_or(TimePoint{}))) + "." + last.id;
        return page;
      }
      page.items.push_back(std::move(s));
    }
    if (static_cast<int>(batch->size()) < limit + 1) return page;
  }
}

void SurplusService::retry(const Principal& caller, std::string id, Relaxation relax, std::string traceparent,
                           SurplusReply reply) {
  if (caller.role != Role::kAdmin) return reply(forbidden("only the admin rescues items from the Geo-DLQ"));
  if (!matcher_) return reply(Status(ErrorCode::kUnavailable, "matching is not running"));
  if (relax.radius_m && !(*relax.radius_m > 0 && *relax.radius_m <= 200000)) {
    return reply(invalid("radius_m must be in (0, 200000]"));
  }
  MatchPolicy policy = matcher_->settings().policy;
  if (relax.radius_m) policy.radius_m = *relax.radius_m;
  policy.include_food_banks = relax.include_food_banks;
  policy.ignore_categories = relax.ignore_categories;
  with_actor(id, [id, traceparent = std::move(traceparent), policy,
                  reply = std::move(reply)](Result<std::shared_ptr<ShardActor>> actor) mutable {
    if (!actor) return reply(actor.status());
    (*actor)->retry_dead_letter(std::move(id), std::move(traceparent), policy, std::move(reply));
  });
}

void SurplusService::assign(const Principal& caller, std::string id, const std::string& ngo_id, std::string traceparent,
                            SurplusReply reply) {
  if (caller.role != Role::kAdmin) return reply(forbidden("only the admin assigns items from the Geo-DLQ"));
  if (!matcher_ || !directory_) return reply(Status(ErrorCode::kUnavailable, "matching is not running"));
  auto ngo = directory_->find(ngo_id);
  if (!ngo) return reply(Status(ErrorCode::kNotFound, "no such NGO"));
  route(
      std::move(id), std::move(traceparent),
      [this, ngo](const Surplus& s) -> Result<Decision> {
        if (!s.dead_lettered || s.status != SurplusStatus::kAvailable) {
          return Status(ErrorCode::kNotFound, "no such Geo-DLQ entry");
        }
        return matcher_->offer_to(s, *ngo);
      },
      std::move(reply));
}

}  // namespace pahlawan

#include "sim/simulation.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <queue>
#include <random>
#include <unordered_map>

#include "adapters/geo/s2_hot_geo_index.h"
#include "adapters/geo/s2_ngo_directory.h"
#include "adapters/memory/in_memory_store.h"
#include "app/json_event_factory.h"
#include "app/json_text.h"
#include "app/surplus_service.h"
#include "common/manual_clock.h"
#include "common/manual_executor.h"
#include "domain/event.h"
#include "domain/geo.h"
#include "domain/validation.h"
#include "engine/batch_assigner.h"
#include "engine/expiry_scheduler.h"
#include "engine/haversine_route_estimator.h"
#include "engine/match_trigger.h"
#include "engine/matcher.h"
#include "engine/waiting_line.h"
#include "sim/offline_optimum.h"

namespace pahlawan::sim {
namespace {

// Midnight at the start of the simulated evening, 2026-12-01 in UTC+7; shifted by the city's offset.
constexpr int64_t kMidnightUtc7Ms = 1'796'058'000'000;

struct Place {
  double lat = 0, lon = 0;
};

Place around(std::mt19937_64& rng, double lat, double lon, double radius_m) {
  std::uniform_real_distribution<double> u(0, 1);
  const double r = radius_m * std::sqrt(u(rng)), theta = 2 * M_PI * u(rng);
  const double dlat = r * std::cos(theta) / 111320.0;
  const double dlon = r * std::sin(theta) / (111320.0 * std::cos(lat * M_PI / 180));
  return {lat + dlat, lon + dlon};
}

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& options) {
  double total = 0;
  for (const auto& o : options) total += o.weight;
  double x = std::uniform_real_distribution<double>(0, total)(rng);
  for (const auto& o : options) {
    if ((x -= o.weight) <= 0) return o;
  }
  return options.back();
}

Quantiles quantiles(std::vector<double> v) {
  Quantiles q;
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))]; };
  q.p50 = at(0.5);
  q.p95 = at(0.95);
  q.max = v.back();
  return q;
}

// The simulated NGOs' ids, in the order they are placed.
std::string ngo_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "ngo-%04d", i);
  return id;
}

struct PlannedPost {
  TimePoint at;
  Place place;
  const FoodKind* food = nullptr;
  double kg = 0;
  int64_t ttl_s = 0;
};

// What the simulated world does next: a restaurant posts, an NGO answers an offer, a claimer arrives.
struct Happening {
  enum Kind { kPost, kAccept, kDecline, kPickup } kind;
  TimePoint at;
  uint64_t order = 0;  // ties in time go in the order planned
  size_t post = 0;     // kPost
  std::string ngo, item;
  bool operator>(const Happening& o) const { return std::tie(at, order) > std::tie(o.at, o.order); }
};

// Per item, what the report needs from its events.
struct Track {
  double kg = 0;
  Place place;
  std::string category;
  int offers = 0;
  std::optional<std::string> holder;  // NGO holding its pending offer
  std::optional<TimePoint> waiting_from;
  bool waited = false, dead_lettered = false;
  std::optional<std::string> claimer;
  std::optional<TimePoint> claimed_at;
  TimePoint created_at;
  bool picked_up = false;
};

class Evening {
 public:
  explicit Evening(const SimOptions& o)
      : o_(o),
        city_(o.city),
        rng_(o.seed),
        clock_(from_unix_ms(kMidnightUtc7Ms - int64_t{3600'000} * (city_.utc_offset_h - 7))),
        midnight_(clock_.now()),
        ids_(clock_, o.seed),
        events_(ids_, clock_),
        router_(13, store_, index_, expiries_, events_, pool_, clock_),
        expiry_(expiries_, router_, clock_),
        ledger_(clock_),
        matcher_(ngos_, ledger_, routes_, clock_, settings()),
        line_(ngos_, ledger_, matcher_.settings().policy, clock_),
        service_(router_, store_, index_, ids_, clock_, &matcher_, &ngos_),
        trigger_(router_) {
    if (o.match_window.count() > 0) {
      batch_ = std::make_unique<BatchAssigner>(o.match_window, ngos_, ledger_, o.waiting_line ? &line_ : nullptr,
                                               expiries_, matcher_.settings().policy, clock_);
    }
    router_.enable_matching(matcher_, ledger_, o.waiting_line ? &line_ : nullptr, batch_.get());
  }

  SimReport run() {
    const auto started = std::chrono::steady_clock::now();
    place_ngos();
    plan_posts();
    loop();
    SimReport r = report();
    if (o_.offline) r.offline = offline();
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
  }

 private:
  MatcherSettings settings() const {
    MatcherSettings s;
    s.policy.radius_m = city_.match_radius_m;
    s.policy.max_pending_offers = city_.max_pending_offers;
    s.policy.max_attempts = city_.max_attempts;
    s.ack_timeout = std::chrono::seconds(city_.ack_timeout_s);
    s.max_wait = std::chrono::seconds(city_.max_wait_s);
    s.pickup_margin = std::chrono::seconds(city_.pickup_margin_s);
    s.wait_in_line = o_.waiting_line;
    return s;
  }

  TimePoint at_hour(double h) const { return midnight_ + Millis(static_cast<int64_t>(h * 3'600'000)); }

  void place_ngos() {
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < city_.ngos; ++i) {
      const std::string id = ngo_id(i);
      const Place p = around(rng_, city_.lat, city_.lon, city_.ngo_spread_m);
      Ngo n;
      n.id = n.name = id;
      n.lat = p.lat;
      n.lon = p.lon;
      n.kind = u(rng_) < city_.food_bank_share ? NgoKind::kFoodBank : NgoKind::kNgo;
      if (u(rng_) < city_.specialist_share) n.categories = {pick(rng_, city_.food).category};
      n.capacity_kg = std::round(city_.capacity_kg_min + u(rng_) * (city_.capacity_kg_max - city_.capacity_kg_min));
      n.created_at = clock_.now();
      ngos_.add(n);
    }
  }

  void plan_posts() {
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Place> providers;
    for (int i = 0; i < city_.providers; ++i) {
      const District& d = pick(rng_, city_.districts);
      providers.push_back(around(rng_, d.lat, d.lon, d.radius_m));
    }
    for (int i = 0; i < city_.posts; ++i) {
      PlannedPost p;
      double h;
      if (city_.burst_s > 0) {
        h = city_.peak_start_h + u(rng_) * city_.burst_s / 3600;
      } else if (u(rng_) < city_.peak_share) {
        h = city_.peak_start_h + u(rng_) * (city_.peak_end_h - city_.peak_start_h);
      } else {
        h = city_.evening_start_h + u(rng_) * (city_.evening_end_h - city_.evening_start_h);
      }
      p.at = at_hour(h);
      p.place = providers[static_cast<size_t>(u(rng_) * static_cast<double>(providers.size())) % providers.size()];
      p.food = &pick(rng_, city_.food);
      std::lognormal_distribution<double> kg(std::log(p.food->kg_median), p.food->kg_sigma);
      p.kg = std::clamp(std::round(kg(rng_) * 10) / 10, 0.5, 200.0);
      p.ttl_s = static_cast<int64_t>(
          3600 * (p.food->shelf_hours_min + u(rng_) * (p.food->shelf_hours_max - p.food->shelf_hours_min)));
      posts_.push_back(p);
    }
    std::sort(posts_.begin(), posts_.end(), [](const PlannedPost& a, const PlannedPost& b) { return a.at < b.at; });
    for (size_t i = 0; i < posts_.size(); ++i) schedule(Happening{Happening::kPost, posts_[i].at, 0, i, "", ""});
  }

  void schedule(Happening h) {
    h.order = next_order_++;
    agenda_.push(std::move(h));
  }

  // Time jumps to whatever comes next: a happening of the world, or a deadline of the engine.
  void loop() {
    for (;;) {
      std::optional<TimePoint> next;
      if (!agenda_.empty()) next = agenda_.top().at;
      if (auto d = expiries_.next(); d && (!next || *d < *next)) next = *d;
      if (!next) break;
      if (*next > clock_.now()) clock_.set(*next);
      expiry_.run_due();
      settle();
      while (!agenda_.empty() && agenda_.top().at <= clock_.now()) {
        Happening h = agenda_.top();
        agenda_.pop();
        happen(h);
        settle();
      }
    }
  }

  // Runs the engine until quiet, handing new outbox events to the match trigger and to the report.
  void settle() {
    for (;;) {
      size_t work = pool_.run_all();
      auto batch = store_.read_outbox(seen_, 100000);
      if (batch) {
        for (const Event& e : *batch) {
          seen_ = e.seq;
          trigger_.on_event(e);
          observe(e);
          ++work;
        }
      }
      if (work == 0) return;
    }
  }

  void happen(const Happening& h) {
    const Principal ngo{Role::kNgo, h.ngo};
    switch (h.kind) {
      case Happening::kPost: return post(posts_[h.post]);
      case Happening::kAccept:
        return service_.claim(ngo, h.item, std::nullopt, "", [this, h](Result<Surplus> r) {
          if (r && r->claimed_by == h.ngo) claimed(*r);
        });
      case Happening::kDecline: return service_.decline(ngo, h.item, "", [](Result<Surplus>) {});
      case Happening::kPickup:
        return service_.pickup(ngo, h.item, "", [this](Result<Surplus> r) {
          if (r && r->status == SurplusStatus::kPickedUp) tracks_[r->id].picked_up = true;
        });
    }
  }

  void post(const PlannedPost& p) {
    PostSurplusRequest req;
    req.title = p.food->category;
    req.category = p.food->category;
    req.quantity_kg = p.kg;
    req.ttl_seconds = p.ttl_s;
    req.lat = p.place.lat;
    req.lon = p.place.lon;
    service_.post(Principal{Role::kProvider, "restaurant"}, req, "", [this, p](Result<PostOutcome> r) {
      if (!r) return;
      Track& t = tracks_[r->surplus.id];
      t.kg = r->surplus.quantity_kg;
      t.place = p.place;
      t.category = p.food->category;
      t.created_at = r->surplus.created_at;
      order_.push_back(r->surplus.id);
    });
  }

  void claimed(const Surplus& s) {
    Track& t = tracks_[s.id];
    t.claimer = s.claimed_by;
    t.claimed_at = s.claimed_at;
    std::uniform_real_distribution<double> u(0, 1);
    if (u(rng_) < city_.no_show_p) return;
    const auto ngo = ngos_.find(*s.claimed_by);
    const double km = haversine_m(s.lat, s.lon, ngo->lat, ngo->lon) / 1000;
    const Millis travel(static_cast<int64_t>(3'600'000 * km / city_.speed_kmh + 60'000 * (5 + 15 * u(rng_))));
    schedule(Happening{Happening::kPickup, clock_.now() + travel, 0, 0, *s.claimed_by, s.id});
  }

  void observe(const Event& e) {
    auto it = tracks_.find(e.surplus_id);
    if (it == tracks_.end()) return;
    Track& t = it->second;
    if (t.holder) {  // any event of the item ends its pending offer (an offer to the next replaces it)
      --pending_[*t.holder];
      t.holder.reset();
    }
    if (t.waiting_from && e.type != event_type::kWaiting) {
      waited_s_.push_back(std::chrono::duration<double>(e.occurred_at - *t.waiting_from).count());
      t.waiting_from.reset();
    }
    if (e.type == event_type::kOffered) {
      t.holder = e.recipient;
      ++t.offers;
      ++offers_to_[e.recipient];
      max_pending_ = std::max(max_pending_, ++pending_[e.recipient]);
      answer(e.recipient, e.surplus_id);
    } else if (e.type == event_type::kWaiting) {
      t.waiting_from = e.occurred_at;
      t.waited = true;
    } else if (e.type == event_type::kDeadLettered) {
      t.dead_lettered = true;
      auto s = store_.find_surplus(e.surplus_id);
      if (s && *s) ++dlq_reasons_[(*s)->dlq_reason.value_or("?")];
    }
  }

  // The NGO offered an item answers (or not) after its own delay.
  void answer(const std::string& ngo, const std::string& item) {
    std::uniform_real_distribution<double> u(0, 1);
    std::lognormal_distribution<double> delay(std::log(city_.respond_median_s), city_.respond_sigma);
    const double x = u(rng_);
    const Millis after(static_cast<int64_t>(1000 * delay(rng_)));
    if (x < city_.accept_p) {
      schedule(Happening{Happening::kAccept, clock_.now() + after, 0, 0, ngo, item});
    } else if (x < city_.accept_p + city_.decline_p) {
      schedule(Happening{Happening::kDecline, clock_.now() + after, 0, 0, ngo, item});
    }  // else it never answers: the offer lapses
  }

  SimReport report() {
    SimReport r;
    r.city = city_.name;
    r.seed = o_.seed;
    char window[48];
    std::snprintf(window, sizeof window, "batch %g s%s", static_cast<double>(o_.match_window.count()) / 1000,
                  o_.waiting_line ? " + waiting line" : "");
    r.mode = o_.match_window.count() > 0 ? window : o_.waiting_line ? "greedy + waiting line" : "greedy";
    r.ngos = city_.ngos;
    r.cap = city_.max_pending_offers;
    r.max_pending = max_pending_;
    std::vector<double> claim_s, travel;
    int offers = 0;
    int64_t posted_g = 0, claimed_g = 0, picked_g = 0;  // sums in whole grams, so they do not drift
    for (const std::string& id : order_) {
      const Track& t = tracks_[id];
      ++r.items;
      posted_g += grams_of(t.kg);
      offers += t.offers;
      r.offers_max = std::max(r.offers_max, t.offers);
      r.dead_lettered += t.dead_lettered;
      r.waited += t.waited;
      auto s = store_.find_surplus(id);
      if (s && *s && (*s)->status == SurplusStatus::kExpired) ++r.expired;
      if (!t.claimer) continue;
      ++r.claimed;
      claimed_g += grams_of(t.kg);
      claim_s.push_back(std::chrono::duration<double>(*t.claimed_at - t.created_at).count());
      const auto ngo = ngos_.find(*t.claimer);
      travel.push_back(haversine_m(t.place.lat, t.place.lon, ngo->lat, ngo->lon) / 1000);
      r.travel_km_total += travel.back();
      if (t.picked_up) {
        ++r.picked_up;
        picked_g += grams_of(t.kg);
      }
    }
    r.kg_posted = static_cast<double>(posted_g) / 1000;
    r.kg_claimed = static_cast<double>(claimed_g) / 1000;
    r.kg_picked_up = static_cast<double>(picked_g) / 1000;
    r.claim_s = quantiles(claim_s);
    r.travel_km_median = quantiles(travel).p50;
    r.km_per_tonne = r.kg_claimed > 0 ? r.travel_km_total / (r.kg_claimed / 1000) : 0;
    r.offers_per_item = r.items ? static_cast<double>(offers) / r.items : 0;
    std::vector<double> per_ngo;
    for (int i = 0; i < city_.ngos; ++i) {
      const auto it = offers_to_.find(ngo_id(i));
      per_ngo.push_back(it == offers_to_.end() ? 0 : it->second);
    }
    r.offers_per_ngo = quantiles(per_ngo);
    r.dlq_reasons = dlq_reasons_;
    r.waited_s = quantiles(waited_s_);
    return r;
  }

  OfflineBound offline() {
    std::vector<OfflineItem> items;
    for (const std::string& id : order_) {
      const Track& t = tracks_[id];
      items.push_back(OfflineItem{t.place.lat, t.place.lon, t.kg, t.category});
    }
    return offline_optimum(items, ngos_, city_.match_radius_m);
  }

  const SimOptions& o_;
  const CityModel city_;
  std::mt19937_64 rng_;
  ManualClock clock_;
  const TimePoint midnight_;
  InMemoryStore store_;
  S2HotGeoIndex index_;
  DeadlineQueue expiries_;
  ManualExecutor pool_;
  IdGenerator ids_;
  JsonEventFactory events_;
  ShardRouter router_;
  ExpiryScheduler expiry_;
  S2NgoDirectory ngos_;
  NgoLedger ledger_;
  HaversineRouteEstimator routes_;
  Matcher matcher_;
  WaitingLine line_;
  std::unique_ptr<BatchAssigner> batch_;
  SurplusService service_;
  MatchTrigger trigger_;

  std::vector<PlannedPost> posts_;
  std::priority_queue<Happening, std::vector<Happening>, std::greater<>> agenda_;
  uint64_t next_order_ = 0;
  int64_t seen_ = 0;
  std::unordered_map<std::string, Track> tracks_;
  std::vector<std::string> order_;  // items in post order (the report walks them so, for determinism)
  std::unordered_map<std::string, int> pending_, offers_to_;
  int max_pending_ = 0;
  std::map<std::string, int> dlq_reasons_;
  std::vector<double> waited_s_;
};

}  // namespace

SimReport run_simulation(const SimOptions& options) {
  Evening evening(options);
  return evening.run();
}

std::string report_text(const SimReport& r) {
  char buf[4096];
  auto pct = [](double a, double b) { return b > 0 ? 100 * a / b : 0.0; };
  std::string reasons;
  for (const auto& [k, v] : r.dlq_reasons) reasons += (reasons.empty() ? "" : ", ") + k + " " + std::to_string(v);
  int n = std::snprintf(buf, sizeof buf,
                        "city %s, seed %llu, %s: %d items (%.0f kg), %d NGOs\n"
                        "  claimed before expiry   %.1f %% of kg (%d items)\n"
                        "  picked up               %.1f %% of kg (%d items)\n"
                        "  post -> claim           p50 %.0f s, p95 %.0f s\n"
                        "  travel                  %.0f km in all, median %.2f km, %.1f km per tonne\n"
                        "  offers per item         mean %.2f, max %d\n"
                        "  offers per NGO          p50 %.0f, p95 %.0f, max %.0f; most held at once %d (cap %d)\n"
                        "  Geo-DLQ                 %d items (%.1f %%)%s%s%s\n"
                        "  waited in line          %d items, p50 %.0f s, p95 %.0f s, max %.0f s\n"
                        "  expired unclaimed       %d items\n",
                        r.city.c_str(), static_cast<unsigned long long>(r.seed), r.mode.c_str(), r.items, r.kg_posted,
                        r.ngos, pct(r.kg_claimed, r.kg_posted), r.claimed, pct(r.kg_picked_up, r.kg_posted),
                        r.picked_up, r.claim_s.p50, r.claim_s.p95, r.travel_km_total, r.travel_km_median,
                        r.km_per_tonne, r.offers_per_item, r.offers_max, r.offers_per_ngo.p50, r.offers_per_ngo.p95,
                        r.offers_per_ngo.max, r.max_pending, r.cap, r.dead_lettered, pct(r.dead_lettered, r.items),
                        reasons.empty() ? "" : " (", reasons.c_str(), reasons.empty() ? "" : ")", r.waited,
                        r.waited_s.p50, r.waited_s.p95, r.waited_s.max, r.expired);
  std::string out(buf, static_cast<size_t>(n));
  if (r.offline) {
    n = std::snprintf(buf, sizeof buf, "  offline optimum         %.1f %% of kg, %.0f km, %.1f km per tonne\n",
                      pct(r.offline->kg_assigned, r.kg_posted), r.offline->travel_km, r.offline->km_per_tonne);
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string report_json(const SimReport& r, bool with_wall) {
  namespace json = boost::json;
  auto q = [](const Quantiles& x) { return json::object{{"p50", x.p50}, {"p95", x.p95}, {"max", x.max}}; };
  json::object reasons;
  for (const auto& [k, v] : r.dlq_reasons) reasons[k] = v;
  json::object o{{"city", r.city},
                 {"seed", r.seed},
                 {"mode", r.mode},
                 {"items", r.items},
                 {"ngos", r.ngos},
                 {"kg_posted", r.kg_posted},
                 {"kg_claimed", r.kg_claimed},
                 {"kg_picked_up", r.kg_picked_up},
                 {"claimed", r.claimed},
                 {"picked_up", r.picked_up},
                 {"claim_s", q(r.claim_s)},
                 {"travel_km_total", r.travel_km_total},
                 {"travel_km_median", r.travel_km_median},
                 {"km_per_tonne", r.km_per_tonne},
                 {"offers_per_item", r.offers_per_item},
                 {"offers_max", r.offers_max},
                 {"offers_per_ngo", q(r.offers_per_ngo)},
                 {"max_pending", r.max_pending},
                 {"cap", r.cap},
                 {"dead_lettered", r.dead_lettered},
                 {"dlq_reasons", reasons},
                 {"waited", r.waited},
                 {"waited_s", q(r.waited_s)},
                 {"expired", r.expired}};
  if (with_wall) o["wall_s"] = r.wall_s;
  if (r.offline) {
    o["offline"] = json::object{{"kg_assigned", r.offline->kg_assigned},
                                {"travel_km", r.offline->travel_km},
                                {"km_per_tonne", r.offline->km_per_tonne}};
  }
  return to_text(o);
}

}  // namespace pahlawan::sim

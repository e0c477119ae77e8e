// The matching engine end to end inside the process, for the unit tests: shard actors, matcher,
// ledger and deadlines over the in-memory store, a manual executor and a fake clock (no sleeps).
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "adapters/geo/s2_hot_geo_index.h"
#include "adapters/geo/s2_ngo_directory.h"
#include "app/json_event_factory.h"
#include "app/json_render.h"
#include "app/surplus_service.h"
#include "engine/expiry_scheduler.h"
#include "engine/haversine_route_estimator.h"
#include "engine/match_trigger.h"
#include "engine/matcher.h"
#include "fake_clock.h"
#include "in_memory_store.h"
#include "manual_executor.h"

namespace pahlawan {

using testing::FakeClock;
using testing::InMemoryStore;
using testing::ManualExecutor;

const Principal kProvider{Role::kProvider, "prov-1"};
const Principal kAdmin{Role::kAdmin, ""};

inline MatcherSettings settings(int max_attempts = 5) {
  MatcherSettings s;
  s.policy.radius_m = 10000;
  s.policy.max_attempts = max_attempts;
  s.policy.max_pending_offers = 3;
  s.ack_timeout = std::chrono::seconds(300);
  return s;
}

// The road router of these tests: great-circle by default; told to, it holds a request until the test
// answers it (a networked router answers later, on its own thread), or answers with given times.
class TestRoutes final : public RouteEstimator {
 public:
  void estimate(const GeoPoint& origin, const std::vector<GeoPoint>& destinations, RouteCallback done) override {
    ++calls;
    if (hold) {
      held.push_back(std::move(done));
      return;
    }
    if (seconds_by_lon) {
      std::vector<RouteEstimate> out;
      for (const GeoPoint& d : destinations) out.push_back(RouteEstimate{seconds_by_lon(d.lon), 0});
      return done(std::move(out));
    }
    done(haversine.estimate_now(origin, destinations));
  }
  const char* name() const override { return "test"; }

  bool hold = false;
  std::vector<RouteCallback> held;
  std::function<double(double lon)> seconds_by_lon;  // set: travel time by destination
  int calls = 0;
  HaversineRouteEstimator haversine;
};

class MatchingTest : public ::testing::Test {
 protected:
  explicit MatchingTest(MatcherSettings ms = settings())
      : ids(clock),
        events(ids, clock),
        router(13, store, index, expiries, events, pool, clock),
        expiry(expiries, router, clock),
        ledger(clock),
        matcher(ngos, ledger, routes, clock, ms, &metrics),
        service(router, store, index, ids, clock, &matcher, &ngos),
        trigger(router) {
    router.enable_matching(matcher, ledger);
  }

  Ngo& add_ngo(const std::string& id, double lat, double lon, NgoKind kind = NgoKind::kNgo,
               std::vector<std::string> categories = {}, std::optional<double> capacity = std::nullopt) {
    Ngo n{id, id, lat, lon, kind, std::move(categories), capacity, std::nullopt, clock.now()};
    ngos.add(n);
    registered.push_back(n);
    return registered.back();
  }

  // Posts an item and runs everything, including the relay's delivery of its posted event.
  Surplus post(double lat, double lon, double kg = 10, const std::string& category = "prepared_meal",
               int ttl_s = 6 * 3600) {
    PostSurplusRequest req;
    req.title = "Nasi";
    req.category = category;
    req.quantity_kg = kg;
    req.ttl_seconds = ttl_s;
    req.lat = lat;
    req.lon = lon;
    std::optional<Result<PostOutcome>> out;
    service.post(kProvider, req, "", [&](Result<PostOutcome> r) { out = std::move(r); });
    settle();
    EXPECT_TRUE(out && *out);
    return (*out)->surplus;
  }

  // Runs actors and commits until quiet, delivering new outbox events to the match trigger.
  void settle() {
    for (;;) {
      size_t work = pool.run_all() + store.release();
      for (const auto& e : store.events()) {
        if (e.seq > delivered) {
          trigger.on_event(e);
          delivered = e.seq;
          ++work;
        }
      }
      if (work == 0) return;
    }
  }

  // Lets `d` pass: due deadlines fire and everything they start runs to quiet.
  void pass(Millis d) {
    clock.advance(d);
    expiry.run_due();
    settle();
  }

  Surplus get(const std::string& id) { return **store.find_surplus(id); }

  Result<Surplus> act(const std::function<void(SurplusReply)>& f) {
    std::optional<Result<Surplus>> out;
    f([&](Result<Surplus> r) { out = std::move(r); });
    settle();
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : Result<Surplus>(Status(ErrorCode::kInternal, "no reply"));
  }

  std::vector<std::string> event_types(const std::string& id) {
    std::vector<std::string> out;
    for (const auto& e : store.events()) {
      if (e.surplus_id == id) out.push_back(e.type);
    }
    return out;
  }

  FakeClock clock;
  InMemoryStore store;
  S2HotGeoIndex index;
  DeadlineQueue expiries;
  ManualExecutor pool;
  IdGenerator ids;
  JsonEventFactory events;
  ShardRouter router;
  ExpiryScheduler expiry;
  S2NgoDirectory ngos;
  NgoLedger ledger;
  TestRoutes routes;
  MetricsRegistry metrics;
  Matcher matcher;
  SurplusService service;
  MatchTrigger trigger;
  std::deque<Ngo> registered;
  int64_t delivered = 0;
};

// Around Monas, Jakarta: NGOs at increasing distances east of the item.
constexpr double kLat = -6.1754, kLon = 106.8272;

}  // namespace pahlawan

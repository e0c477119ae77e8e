// The circuit breaker, the guarded route estimator and the haversine fallback, driven by a fake clock:
// a "slow" primary advances the clock inside its own call, so slowness is measured, never slept.
#include "engine/circuit_breaker.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <vector>

#include "domain/geo.h"
#include "engine/guarded_route_estimator.h"
#include "engine/haversine_route_estimator.h"
#include "fake_clock.h"

namespace pahlawan {
namespace {

using testing::FakeClock;
using State = CircuitBreaker::State;

const GeoPoint kOrigin{-6.2000, 106.8166};  // central Jakarta
// Two NGOs in Jakarta, the first about 3 km from the origin, the second about 14 km.
const std::vector<GeoPoint> kNgos{{-6.1754, 106.8272}, {-6.2297, 106.6894}};
constexpr double kPrimarySeconds = 111;  // what the scripted router answers, unlike any haversine value
constexpr double kPrimaryMeters = 2222;

CircuitBreakerOptions three_strikes() {
  CircuitBreakerOptions o;
  o.failure_threshold = 3;
  return o;
}

// A road router whose answers are queued by the test. A call with nothing queued is a test failure.
class ScriptedEstimator final : public RouteEstimator {
 public:
  explicit ScriptedEstimator(FakeClock& clock) : clock_(clock) {}

  void then_ok() { script_.push_back({Kind::kOk, Millis(20)}); }
  void then_fail() { script_.push_back({Kind::kFail, Millis(20)}); }
  void then_slow(Millis took) { script_.push_back({Kind::kOk, took}); }
  void then_short_answer() { script_.push_back({Kind::kShort, Millis(20)}); }
  int calls() const { return calls_; }

  // The next call is not answered until answer_held() — as a networked router answers later, on its
  // own thread.
  void then_hold() { script_.push_back({Kind::kHold, Millis(0)}); }
  void answer_held(Millis took) {
    ASSERT_TRUE(held_);
    clock_.advance(took);
    auto done = std::move(held_);
    held_ = nullptr;
    done(std::vector<RouteEstimate>(held_size_, RouteEstimate{kPrimarySeconds, kPrimaryMeters}));
  }

  void estimate(const GeoPoint&, const std::vector<GeoPoint>& destinations, RouteCallback done) override {
    ++calls_;
    if (script_.empty()) {
      ADD_FAILURE() << "primary called with nothing scripted";
      return done(Status(ErrorCode::kInternal, "unscripted call"));
    }
    const Step step = script_.front();
    script_.pop_front();
    if (step.kind == Kind::kHold) {
      held_ = std::move(done);
      held_size_ = destinations.size();
      return;
    }
    clock_.advance(step.took);
    if (step.kind == Kind::kFail) return done(Status(ErrorCode::kUnavailable, "scripted failure"));
    std::vector<RouteEstimate> out(destinations.size(), RouteEstimate{kPrimarySeconds, kPrimaryMeters});
    if (step.kind == Kind::kShort && !out.empty()) out.pop_back();
    done(std::move(out));
  }
  const char* name() const override { return "scripted"; }

 private:
  enum class Kind { kOk, kFail, kShort, kHold };
  struct Step {
    Kind kind;
    Millis took;
  };
  FakeClock& clock_;
  std::deque<Step> script_;
  int calls_ = 0;
  RouteCallback held_;
  size_t held_size_ = 0;
};

// Asks an estimator and returns its answer, which must come before estimate() returns (every
// estimator of these tests answers at once unless told to hold).
RouteAnswer ask(RouteEstimator& e, const GeoPoint& origin, const std::vector<GeoPoint>& destinations) {
  std::optional<RouteAnswer> out;
  e.estimate(origin, destinations, [&](RouteAnswer a) { out = std::move(a); });
  if (!out) {
    ADD_FAILURE() << "no answer before estimate() returned";
    return Status(ErrorCode::kInternal, "no answer");
  }
  return std::move(*out);
}

// ---- CircuitBreaker ----

TEST(CircuitBreaker, OpensAfterThresholdConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.state_value(), 0);
  b.record_failure();
  b.record_failure();
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.allow());
  b.record_failure();
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.state_value(), 2);
  EXPECT_FALSE(b.allow());
}

TEST(CircuitBreaker, DefaultThresholdIsFive) {
  FakeClock clock;
  CircuitBreaker b(clock);
  for (int i = 0; i < 4; ++i) b.record_failure();
  EXPECT_EQ(b.state(), State::kClosed);
  b.record_failure();
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreaker, SuccessInBetweenResetsTheCount) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  b.record_failure();
  b.record_failure();
  b.record_success(Millis(10));
  b.record_failure();
  b.record_failure();
  EXPECT_EQ(b.state(), State::kClosed);
  b.record_failure();
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreaker, SlowSuccessesCountAsFailures) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  b.record_success(Millis(1501));
  b.record_failure();
  EXPECT_EQ(b.state(), State::kClosed);
  b.record_success(Millis(5000));
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreaker, SuccessExactlyAtTheSlowLimitIsFast) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 5; ++i) b.record_success(Millis(1500));
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreaker, AfterCoolDownExactlyOneProbeIsLetThrough) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 3; ++i) b.record_failure();
  clock.advance(Millis(29'999));
  EXPECT_FALSE(b.allow());
  EXPECT_EQ(b.state(), State::kOpen);
  clock.advance(Millis(1));
  EXPECT_TRUE(b.allow());
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_EQ(b.state_value(), 1);
  EXPECT_FALSE(b.allow());
  clock.advance(Millis(60'000));
  EXPECT_FALSE(b.allow());  // still waiting for the probe's outcome
}

TEST(CircuitBreaker, ProbeSuccessClosesAndResetsTheCount) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 3; ++i) b.record_failure();
  clock.advance(Millis(30'000));
  ASSERT_TRUE(b.allow());
  b.record_success(Millis(100));
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_TRUE(b.allow());
  EXPECT_TRUE(b.allow());
  b.record_failure();
  b.record_failure();
  EXPECT_EQ(b.state(), State::kClosed);  // the failures before opening no longer count
}

TEST(CircuitBreaker, ProbeFailureReopensWithAFreshCoolDown) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 3; ++i) b.record_failure();
  clock.advance(Millis(30'000));
  ASSERT_TRUE(b.allow());
  clock.advance(Millis(10'000));  // the probe takes a while to fail
  b.record_failure();
  EXPECT_EQ(b.state(), State::kOpen);
  clock.advance(Millis(29'999));  // 69.999 s after the first opening, but not 30 s after the second
  EXPECT_FALSE(b.allow());
  clock.advance(Millis(1));
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, SlowProbeReopens) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 3; ++i) b.record_failure();
  clock.advance(Millis(30'000));
  ASSERT_TRUE(b.allow());
  b.record_success(Millis(2000));
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_FALSE(b.allow());
}

TEST(CircuitBreaker, OutcomesReportedWhileOpenAreIgnored) {
  FakeClock clock;
  CircuitBreaker b(clock, three_strikes());
  for (int i = 0; i < 3; ++i) b.record_failure();
  clock.advance(Millis(20'000));
  b.record_success(Millis(10));  // a call let through before opening, answering late
  EXPECT_EQ(b.state(), State::kOpen);
  b.record_failure();  // must not push the cool-down back
  clock.advance(Millis(10'000));
  EXPECT_TRUE(b.allow());
}

TEST(CircuitBreaker, StateNames) {
  EXPECT_STREQ(CircuitBreaker::state_name(State::kClosed), "closed");
  EXPECT_STREQ(CircuitBreaker::state_name(State::kHalfOpen), "half_open");
  EXPECT_STREQ(CircuitBreaker::state_name(State::kOpen), "open");
}

// ---- GuardedRouteEstimator ----

class GuardedRouteEstimatorTest : public ::testing::Test {
 protected:
  std::vector<RouteEstimate> haversine_answer() { return fallback.estimate_now(kOrigin, kNgos); }

  static void expect_same(const std::vector<RouteEstimate>& got, const std::vector<RouteEstimate>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_DOUBLE_EQ(got[i].seconds, want[i].seconds) << i;
      EXPECT_DOUBLE_EQ(got[i].meters, want[i].meters) << i;
    }
  }
  static void expect_primary(const std::vector<RouteEstimate>& got) {
    const RouteEstimate primary_each{kPrimarySeconds, kPrimaryMeters};
    expect_same(got, std::vector<RouteEstimate>(kNgos.size(), primary_each));
  }

  FakeClock clock;
  ScriptedEstimator primary{clock};
  HaversineRouteEstimator fallback;
  CircuitBreaker breaker{clock, three_strikes()};
  GuardedRouteEstimator guarded{primary, fallback, breaker, clock};
};

TEST_F(GuardedRouteEstimatorTest, HealthyPrimaryAnswers) {
  primary.then_ok();
  auto r = ask(guarded, kOrigin, kNgos);
  ASSERT_TRUE(r);
  expect_primary(*r);
  EXPECT_EQ(primary.calls(), 1);
  EXPECT_EQ(guarded.fallbacks(), 0);
  EXPECT_STREQ(guarded.name(), "guarded");
}

TEST_F(GuardedRouteEstimatorTest, PrimaryFailureIsAnsweredByTheFallback) {
  primary.then_fail();
  auto r = ask(guarded, kOrigin, kNgos);
  ASSERT_TRUE(r);
  expect_same(*r, haversine_answer());
  EXPECT_EQ(primary.calls(), 1);
  EXPECT_EQ(guarded.fallbacks(), 1);
  EXPECT_EQ(breaker.state(), State::kClosed);
}

TEST_F(GuardedRouteEstimatorTest, AnswerOfTheWrongSizeIsAFailure) {
  primary.then_short_answer();
  auto r = ask(guarded, kOrigin, kNgos);
  ASSERT_TRUE(r);
  expect_same(*r, haversine_answer());
  EXPECT_EQ(guarded.fallbacks(), 1);
}

TEST_F(GuardedRouteEstimatorTest, OpenBreakerSkipsThePrimary) {
  for (int i = 0; i < 3; ++i) primary.then_fail();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ask(guarded, kOrigin, kNgos));
  ASSERT_EQ(breaker.state(), State::kOpen);
  ASSERT_EQ(primary.calls(), 3);

  for (int i = 0; i < 4; ++i) {
    auto r = ask(guarded, kOrigin, kNgos);
    ASSERT_TRUE(r);
    expect_same(*r, haversine_answer());
  }
  EXPECT_EQ(primary.calls(), 3);
  EXPECT_EQ(guarded.fallbacks(), 7);
}

TEST_F(GuardedRouteEstimatorTest, SlowPrimaryIsUsedButOpensTheBreaker) {
  for (int i = 0; i < 3; ++i) primary.then_slow(Millis(2000));
  for (int i = 0; i < 3; ++i) {
    auto r = ask(guarded, kOrigin, kNgos);
    ASSERT_TRUE(r);
    expect_primary(*r);  // late but correct: better than the fallback for this call
  }
  EXPECT_EQ(guarded.fallbacks(), 0);
  EXPECT_EQ(breaker.state(), State::kOpen);
  ASSERT_TRUE(ask(guarded, kOrigin, kNgos));
  EXPECT_EQ(primary.calls(), 3);
  EXPECT_EQ(guarded.fallbacks(), 1);
}

TEST_F(GuardedRouteEstimatorTest, ProbeAfterCoolDownReachesThePrimaryAndCloses) {
  for (int i = 0; i < 3; ++i) primary.then_fail();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ask(guarded, kOrigin, kNgos));
  ASSERT_EQ(breaker.state(), State::kOpen);
  clock.advance(Millis(30'000));
  primary.then_ok();
  auto r = ask(guarded, kOrigin, kNgos);
  ASSERT_TRUE(r);
  expect_primary(*r);
  EXPECT_EQ(primary.calls(), 4);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(guarded.fallbacks(), 3);
}

TEST_F(GuardedRouteEstimatorTest, LateAnswerIsTimedFromTheCallToTheAnswer) {
  // Three slow answers that arrive after estimate() has returned: each is measured over the wait.
  for (int i = 0; i < 3; ++i) {
    primary.then_hold();
    std::optional<RouteAnswer> got;
    guarded.estimate(kOrigin, kNgos, [&](RouteAnswer a) { got = std::move(a); });
    ASSERT_FALSE(got.has_value());
    primary.answer_held(Millis(2000));
    ASSERT_TRUE(got && *got);
    expect_primary(**got);
  }
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(guarded.primary_answers(), 3);
}

TEST_F(GuardedRouteEstimatorTest, HalfOpenProbeInFlightSendsOthersToTheFallback) {
  for (int i = 0; i < 3; ++i) primary.then_fail();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ask(guarded, kOrigin, kNgos));
  clock.advance(Millis(30'000));
  primary.then_hold();
  std::optional<RouteAnswer> probe;
  guarded.estimate(kOrigin, kNgos, [&](RouteAnswer a) { probe = std::move(a); });
  ASSERT_EQ(breaker.state(), State::kHalfOpen);
  auto other = ask(guarded, kOrigin, kNgos);  // answered at once while the probe is out
  ASSERT_TRUE(other);
  expect_same(*other, haversine_answer());
  primary.answer_held(Millis(10));
  ASSERT_TRUE(probe && *probe);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(primary.calls(), 4);
}

// ---- HaversineRouteEstimator ----

TEST(HaversineRouteEstimator, OneEstimatePerDestinationInOrder) {
  HaversineRouteEstimator h;
  const std::vector<GeoPoint> dests{kOrigin, kNgos[1], kNgos[0]};
  auto r = ask(h, kOrigin, dests);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), dests.size());
  EXPECT_EQ((*r)[0].meters, 0.0);
  EXPECT_EQ((*r)[0].seconds, 0.0);
  for (size_t i = 0; i < dests.size(); ++i) {
    const double m = haversine_m(kOrigin.lat, kOrigin.lon, dests[i].lat, dests[i].lon);
    EXPECT_DOUBLE_EQ((*r)[i].meters, m) << i;
    EXPECT_DOUBLE_EQ((*r)[i].seconds, m / HaversineRouteEstimator::kUrbanDrivingMetersPerSecond) << i;
  }
  EXPECT_GT((*r)[1].meters, (*r)[2].meters);  // kNgos[1] is the farther one; order is the caller's
  EXPECT_NEAR((*r)[1].meters / (*r)[1].seconds, 6.944, 0.001);
  EXPECT_STREQ(h.name(), "haversine");
}

TEST(HaversineRouteEstimator, UsesTheGivenSpeedAndAcceptsNoDestinations) {
  HaversineRouteEstimator h(10.0);
  auto r = ask(h, kOrigin, kNgos);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), kNgos.size());
  for (const RouteEstimate& e : *r) {
    EXPECT_GT(e.meters, 0);
    EXPECT_DOUBLE_EQ(e.seconds, e.meters / 10.0);
  }
  auto none = ask(h, kOrigin, {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace pahlawan

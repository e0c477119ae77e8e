// The fault-injection points: the spec grammar, and what an armed point does (error, from the N-th
// hit, K times). Crashes are exercised end to end in test/api/fault_crash_test.cc.
#include <gtest/gtest.h>

#include "common/fault.h"

namespace pahlawan {
namespace {

TEST(Fault, ParsesEveryActionWithHitAndCount) {
  auto a = fault::parse("store.before_commit=crash@200;relay.x=delay:300x2;;webhook.y=error@3x1");
  ASSERT_TRUE(a) << a.status().message();
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].point, "store.before_commit");
  EXPECT_EQ((*a)[0].action, fault::Action::kCrash);
  EXPECT_EQ((*a)[0].from_hit, 200);
  EXPECT_EQ((*a)[0].times, -1);
  EXPECT_EQ((*a)[1].action, fault::Action::kDelay);
  EXPECT_EQ((*a)[1].delay_ms, 300);
  EXPECT_EQ((*a)[1].times, 2);
  EXPECT_EQ((*a)[2].action, fault::Action::kError);
  EXPECT_EQ((*a)[2].from_hit, 3);
  EXPECT_EQ((*a)[2].times, 1);
}

TEST(Fault, RefusesAMalformedSpec) {
  for (const char* spec : {"x", "=crash", "x=boom", "x=crash@", "x=crash@0", "x=errorx0", "x=delay:", "x=delay:-5",
                           "x=error@a", "x=delay:9999999"}) {
    EXPECT_FALSE(fault::parse(spec)) << spec;
  }
}

#ifdef PAHLAWAN_FAULT_INJECTION
TEST(Fault, AnArmedErrorFiresFromItsHitForItsCount) {
  fault::disarm_all();
  EXPECT_FALSE(PP_FAULT("test.point"));
  fault::arm({.point = "test.point", .action = fault::Action::kError, .from_hit = 2, .times = 2});
  EXPECT_FALSE(PP_FAULT("test.point"));  // hit 1: before from_hit
  EXPECT_TRUE(PP_FAULT("test.point"));   // hit 2
  EXPECT_TRUE(PP_FAULT("test.point"));   // hit 3
  EXPECT_FALSE(PP_FAULT("test.point"));  // count spent
  EXPECT_FALSE(PP_FAULT("other.point"));
  EXPECT_EQ(fault::hits("test.point"), 4);
  fault::disarm_all();
  EXPECT_FALSE(PP_FAULT("test.point"));
}

TEST(Fault, ADelayGoesOn) {
  fault::arm({.point = "test.delay", .action = fault::Action::kDelay, .delay_ms = 1});
  EXPECT_FALSE(PP_FAULT("test.delay"));
  EXPECT_EQ(fault::hits("test.delay"), 1);
  fault::disarm_all();
}

TEST(Fault, ACrashKillsTheProcessAsKillNine) {
  fault::arm({.point = "test.crash", .action = fault::Action::kCrash});
  EXPECT_EXIT((void)PP_FAULT("test.crash"), ::testing::KilledBySignal(SIGKILL), "");
  fault::disarm_all();
}
#else
TEST(Fault, PointsAreConstantFalseWhenNotCompiledIn) {
  fault::arm({.point = "test.point", .action = fault::Action::kError});
  EXPECT_FALSE(PP_FAULT("test.point"));
  EXPECT_FALSE(fault::compiled_in());
  fault::disarm_all();
}
#endif

}  // namespace
}  // namespace pahlawan

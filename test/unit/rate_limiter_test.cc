#include "app/rate_limiter.h"

#include <gtest/gtest.h>

#include "fake_clock.h"

namespace pahlawan {
namespace {

TEST(RateLimiter, AllowsABurstThenRefillsAtTheRate) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 10, 20);
  const Principal ngo{Role::kNgo, "n1"};
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(limiter.admit(ngo)) << i;
  Status refused = limiter.admit(ngo);
  EXPECT_EQ(refused.code(), ErrorCode::kRateLimited);
  EXPECT_EQ(refused.message(), "1");  // seconds to wait
  clock.advance(Millis(100));         // one token back at 10/s
  EXPECT_TRUE(limiter.admit(ngo));
  EXPECT_FALSE(limiter.admit(ngo));
  clock.advance(std::chrono::seconds(60));  // refills to the burst, not beyond
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(limiter.admit(ngo)) << i;
  EXPECT_FALSE(limiter.admit(ngo));
}

TEST(RateLimiter, BucketsArePerCallerAndTheAdminIsNotLimited) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 1, 1);
  EXPECT_TRUE(limiter.admit(Principal{Role::kProvider, "p1"}));
  EXPECT_FALSE(limiter.admit(Principal{Role::kProvider, "p1"}));
  EXPECT_TRUE(limiter.admit(Principal{Role::kProvider, "p2"}));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.admit(Principal{Role::kAdmin, ""}));
}

TEST(RateLimiter, ZeroRateDisablesIt) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, 0, 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.admit(Principal{Role::kNgo, "n"}));
}

}  // namespace
}  // namespace pahlawan

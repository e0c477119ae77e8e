#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "common/executor.h"
#include "common/ids.h"
#include "common/metrics.h"
#include "common/time_format.h"
#include "fake_clock.h"

namespace pahlawan {
namespace {

TEST(TimeFormat, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(from_unix_ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(from_unix_ms(1'795'734'000'123)), "2026-11-26T23:00:00.123Z");
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("2026-11-25T22:00:00Z"), from_unix_ms(1'795'644'000'000));
  EXPECT_EQ(parse_rfc3339("2026-11-26T05:00:00+07:00"), from_unix_ms(1'795'644'000'000));
  EXPECT_EQ(parse_rfc3339("2026-11-25T22:00:00.5Z"), from_unix_ms(1'795'644'000'500));
  const auto t = from_unix_ms(1'795'644'000'042);
  EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
  EXPECT_TRUE(parse_rfc3339("9999-12-31T23:59:59.999Z"));
  EXPECT_TRUE(parse_rfc3339("0000-01-01T00:00:00Z"));
}

TEST(TimeFormat, RejectsNonsense) {
  for (const char* bad : {"", "2026-11-25", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-25T22:00:00",
                          "2026-11-25T22:00:00Zjunk", "2026-11-25T25:00:00Z", "yesterday", "2026-11-25T22:00:00.Z",
                          "2025-02-29T00:00:00Z",
                          // An offset that carries the instant out of years 0000–9999 (fuzz_rfc3339).
                          "9999-12-31T23:59:60-23:58", "0000-01-01T00:00:00+00:01"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Ids, AreUniqueTimeOrderedUuidV7) {
  testing::FakeClock clock;
  IdGenerator ids(clock);
  std::string prev = ids.next();
  EXPECT_EQ(prev.size(), 36u);
  EXPECT_EQ(prev[14], '7');
  std::set<std::string> seen{prev};
  for (int i = 0; i < 5000; ++i) {
    if (i % 100 == 0) clock.advance(Millis(1));
    std::string id = ids.next();
    EXPECT_LT(prev, id);
    EXPECT_TRUE(seen.insert(id).second);
    prev = id;
  }
}

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry r;
  r.counter("a_total", "A things").inc(2);
  r.gauge("b_ratio", "B").set(0.5);
  auto& h = r.histogram("c_seconds", "C", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const std::string text = r.render();
  EXPECT_NE(text.find("# TYPE a_total counter\na_total 2\n"), std::string::npos);
  EXPECT_NE(text.find("b_ratio 0.5\n"), std::string::npos);
  EXPECT_NE(text.find("c_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("c_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("c_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("c_seconds_count 3\n"), std::string::npos);
}

TEST(SerialExecutor, RunsTasksOneAtATimeInOrder) {
  ThreadPool pool(2);
  SerialExecutor serial(pool);
  std::vector<int> order;  // touched only by the serial executor's tasks
  std::atomic<int> running{0}, overlap{0};
  std::mutex done_mu;
  std::condition_variable done_cv;
  int done = 0;
  for (int i = 0; i < 1000; ++i) {
    serial.post([&, i] {
      if (running.fetch_add(1) != 0) overlap++;
      order.push_back(i);
      running.fetch_sub(1);
      std::lock_guard lock(done_mu);
      if (++done == 1000) done_cv.notify_all();
    });
  }
  std::unique_lock lock(done_mu);
  done_cv.wait(lock, [&] { return done == 1000; });
  lock.unlock();
  pool.stop();  // the mailbox's last drain may still be running: let it finish before `serial` goes
  EXPECT_EQ(overlap.load(), 0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(order[i], i);
}

}  // namespace
}  // namespace pahlawan

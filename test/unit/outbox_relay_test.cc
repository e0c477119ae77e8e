// The relay over an in-memory store whose reads can fail.
#include "engine/outbox_relay.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "adapters/bus/in_process_bus.h"
#include "in_memory_store.h"

namespace pahlawan {
namespace {

class Counting final : public EventSubscriber {
 public:
  void on_event(const Event&) override { seen.fetch_add(1); }
  std::atomic<int> seen{0};
};

// A bus that confirms nothing while `down`.
class FlakyBus final : public EventBus {
 public:
  void subscribe(EventSubscriber&) override {}
  void publish(const Event&) override { ++published; }
  Status flush() override { return down ? Status(ErrorCode::kUnavailable, "bus down") : Status::ok(); }
  bool down = false;
  int published = 0;
};

// The lag is measured from the oldest event not yet confirmed by the bus: it stays while the bus
// fails (so the lag grows with the clock) and is gone once the relay has caught up.
TEST(OutboxRelay, TheOldestUnpublishedEventStaysUntilTheBusConfirmsIt) {
  testing::InMemoryStore store;
  auto append = [&](const std::string& id, int64_t at_ms) {
    UnitOfWork unit;
    unit.events.push_back(Event{id, "surplus.posted", "s", from_unix_ms(at_ms), "", "{}", 0});
    std::promise<Status> done;
    store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get());
  };
  FlakyBus bus;
  OutboxRelay relay(store, bus, "nats", 16, 1024);
  EXPECT_EQ(relay.oldest_unpublished(), std::nullopt);
  append("e1", 1'795'000'000'000);
  append("e2", 1'795'000'005'000);
  bus.down = true;
  EXPECT_FALSE(relay.run_once());
  EXPECT_EQ(relay.oldest_unpublished(), from_unix_ms(1'795'000'000'000)) << "e1, not confirmed";
  EXPECT_FALSE(relay.run_once());
  EXPECT_EQ(relay.oldest_unpublished(), from_unix_ms(1'795'000'000'000)) << "still e1: the lag grows";
  bus.down = false;
  EXPECT_EQ(*relay.run_once(), 2u);
  EXPECT_EQ(relay.oldest_unpublished(), from_unix_ms(1'795'000'000'000)) << "until a read finds nothing new";
  EXPECT_EQ(*relay.run_once(), 0u);
  EXPECT_EQ(relay.oldest_unpublished(), std::nullopt) << "caught up";
}

// The lag in events: what is committed past the position, as of the last read. A full batch asks
// the store how far the outbox runs; a bus that fails keeps the whole backlog counted.
TEST(OutboxRelay, TheLagInEventsCountsTheBacklogPastAFullBatchUntilTheBusTakesIt) {
  testing::InMemoryStore store;
  UnitOfWork unit;
  for (int i = 0; i < 10; ++i) {
    unit.events.push_back(
        Event{"e" + std::to_string(i), "surplus.posted", "s", from_unix_ms(1'795'000'000'000), "", "{}", 0});
  }
  std::promise<Status> done;
  store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get());
  FlakyBus bus;
  OutboxRelay relay(store, bus, "nats", 4, 1024);  // batches of 4: the backlog is 2.5 batches
  EXPECT_EQ(relay.unpublished_events(), 0) << "nothing read yet";
  bus.down = true;
  EXPECT_FALSE(relay.run_once());
  EXPECT_EQ(relay.unpublished_events(), 10) << "the whole backlog, not just the batch read";
  bus.down = false;
  EXPECT_EQ(*relay.run_once(), 4u);
  EXPECT_EQ(relay.unpublished_events(), 6);
  EXPECT_EQ(*relay.run_once(), 4u);
  EXPECT_EQ(relay.unpublished_events(), 2);
  EXPECT_EQ(*relay.run_once(), 2u);
  EXPECT_EQ(relay.unpublished_events(), 0);
  EXPECT_EQ(*relay.run_once(), 0u);
  EXPECT_EQ(relay.unpublished_events(), 0) << "caught up";
}

// At a quiet hour no commit comes to wake the relay: a failed read must be tried again by itself.
TEST(OutboxRelay, AFailedReadIsRetriedWithoutWaitingForTheNextCommit) {
  testing::InMemoryStore store;
  UnitOfWork unit;
  unit.events.push_back(Event{"e1", "surplus.posted", "s1", from_unix_ms(1'795'000'000'000), "", "{}", 0});
  std::promise<Status> done;
  store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get());
  store.fail_outbox_reads(2);
  InProcessBus bus;
  Counting counter;
  bus.subscribe(counter);
  OutboxRelay relay(store, bus, "relay", 16, 1024, std::chrono::milliseconds(5));
  ASSERT_TRUE(relay.start());
  for (int i = 0; i < 1000 && counter.seen.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition, bounded (5 s)
  }
  EXPECT_EQ(counter.seen.load(), 1) << "the relay gave up after a failed read and waited for a commit";
  relay.stop();
}

// Several replicas share the relay to the bus through a gate (a lease): only the holder publishes,
// and the next holder resumes where the last one stopped. run_once on the test's thread, no start().
TEST(OutboxRelay, ASharedRelayRunsOnlyBehindItsGateAndTheNextHolderResumesWhereTheLastStopped) {
  testing::InMemoryStore store;
  auto append = [&](int n, int from) {
    UnitOfWork unit;
    for (int i = 0; i < n; ++i) {
      unit.events.push_back(
          Event{"e" + std::to_string(from + i), "surplus.posted", "s", from_unix_ms(1'795'000'000'000), "", "{}", 0});
    }
    std::promise<Status> done;
    store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get());
  };
  InProcessBus bus;
  Counting counter;
  bus.subscribe(counter);
  bool a_holds = true;
  OutboxRelay a(store, bus, "nats", 16, 1024), b(store, bus, "nats", 16, 1024);
  a.set_gate([&] { return a_holds; });
  b.set_gate([&] { return !a_holds; });
  append(3, 0);
  EXPECT_EQ(*b.run_once(), 0u) << "b does not hold the gate";
  EXPECT_EQ(*a.run_once(), 3u);
  a_holds = false;
  append(2, 3);
  EXPECT_EQ(*a.run_once(), 0u) << "a gave the gate up";
  EXPECT_EQ(*b.run_once(), 2u) << "b resumed from a's cursor: nothing published twice";
  EXPECT_EQ(counter.seen.load(), 5);
}

// The holder of the relay's lease dies after the last commit of a quiet hour: the next holder
// publishes what it left without waiting for another commit to wake it.
TEST(OutboxRelay, AGatedRelayAsksItsGateAgainWithoutANewCommit) {
  testing::InMemoryStore store;
  UnitOfWork unit;
  for (int i = 0; i < 3; ++i) {
    unit.events.push_back(
        Event{"q" + std::to_string(i), "surplus.posted", "s", from_unix_ms(1'795'000'000'000), "", "{}", 0});
  }
  std::promise<Status> done;
  store.commit(std::move(unit), [&](Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get());
  InProcessBus bus;
  Counting counter;
  bus.subscribe(counter);
  std::atomic<bool> holds{false};
  std::atomic<int> asked{0};
  OutboxRelay relay(store, bus, "nats", 16, 1024, std::chrono::milliseconds(10));
  relay.set_gate([&] {
    asked.fetch_add(1);
    return holds.load();
  });
  ASSERT_TRUE(relay.start());  // its first round finds the gate shut (another replica holds it)
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (asked.load() == 0 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  ASSERT_GT(asked.load(), 0);
  EXPECT_EQ(counter.seen.load(), 0);
  holds = true;  // that replica dies and this one gains the lease — and no commit follows
  until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (counter.seen.load() < 3 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
  const int published = counter.seen.load();  // before stop(), which drains regardless
  relay.stop();
  EXPECT_EQ(published, 3);
}

}  // namespace
}  // namespace pahlawan

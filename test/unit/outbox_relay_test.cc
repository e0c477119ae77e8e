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

}  // namespace
}  // namespace pahlawan

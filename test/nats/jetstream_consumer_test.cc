// JetStreamConsumer against a real nats-server: every event reaches the subscribers once, in stream
// order, with what travels beside the body (seq, recipient, region, trace context); a re-publish after
// the stream's de-duplication window is acknowledged but not applied again; a durable consumer started
// again resumes after what it acknowledged; a deferred subscriber's event is acknowledged when its
// effect ends, kept from other replicas while it goes on, and handed to one if the holder stops.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "adapters/nats/jetstream_bus.h"
#include "adapters/nats/jetstream_consumer.h"
#include "nats_server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

// Keeps what it is given; a test waits for a count (no sleep: a condition variable).
class Recorder final : public EventSubscriber {
 public:
  void on_event(const Event& e) override {
    std::lock_guard lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  void flush() override {
    std::lock_guard lock(mu_);
    ++flushes_;
  }
  std::vector<Event> wait_for(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(20), [&] { return events_.size() >= n; });
    return events_;
  }
  std::vector<Event> events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
  int flushes_ = 0;
};

Event event(const std::string& id, int64_t seq, const std::string& type = "surplus.posted") {
  Event e;
  e.id = id;
  e.seq = seq;
  e.type = type;
  e.surplus_id = "item-" + id;
  e.occurred_at = from_unix_ms(1'795'000'000'000);
  e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  e.data_json = R"({"id":"item-)" + id + R"(","quantity_kg":2.5})";
  e.region = "3e4";
  if (type == "surplus.offered") e.recipient = "ngo-7";
  return e;
}

JetStreamOptions link(const NatsServerProcess& nats, std::chrono::seconds window = std::chrono::seconds(120)) {
  JetStreamOptions o;
  o.url = nats.url();
  o.duplicate_window = window;
  return o;
}

// As the relay does: the batch again until JetStream confirms it (the bus's connection comes up in
// the background, so the first batch can find it not yet connected); bounded.
void publish(JetStreamBus& bus, const std::vector<Event>& events) {
  bool confirmed = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !confirmed && std::chrono::steady_clock::now() < until;) {
    for (const auto& e : events) bus.publish(e);
    confirmed = bus.flush().is_ok();
    if (!confirmed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(confirmed) << "JetStream never confirmed the batch";
}

std::unique_ptr<JetStreamConsumer> consume(const JetStreamOptions& o, Recorder& r, MetricsRegistry* metrics) {
  JetStreamConsumerOptions co;
  co.link = o;
  co.durable = "test";
  auto c = JetStreamConsumer::start(co, {&r}, metrics);
  EXPECT_TRUE(c) << c.status().message();
  return c ? std::move(*c) : nullptr;
}

// Keeps each event with its `done`, called when the test says.
class Holder final : public DeferredEventSubscriber {
 public:
  void on_event(const Event& e, std::function<void()> done) override {
    std::lock_guard lock(mu_);
    ids_.push_back(e.id);
    dones_.push_back(std::move(done));
    cv_.notify_all();
  }
  // How many events it holds once it holds n, or when `limit` has passed.
  size_t wait_for(size_t n, std::chrono::seconds limit) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, [&] { return ids_.size() >= n; });
    return ids_.size();
  }
  void finish(size_t i) {
    std::function<void()> done;
    {
      std::lock_guard lock(mu_);
      done = dones_.at(i);
    }
    done();
  }
  std::vector<std::string> ids() {
    std::lock_guard lock(mu_);
    return ids_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> ids_;
  std::vector<std::function<void()>> dones_;
};

std::unique_ptr<JetStreamConsumer> hold(const JetStreamOptions& o, Holder& h) {
  JetStreamConsumerOptions co;
  co.link = o;
  co.durable = "deferred";
  co.ack_wait = std::chrono::seconds(1);
  auto c = JetStreamConsumer::start_deferred(co, h, nullptr);
  EXPECT_TRUE(c) << c.status().message();
  return c ? std::move(*c) : nullptr;
}

TEST(JetStreamConsumer, ADeferredEventIsAcknowledgedWhenItsEffectEndsAndHandedOverAgainIfItNeverDoes) {
  NatsServerProcess nats;
  nats.start();
  auto bus = JetStreamBus::connect(link(nats), nullptr);
  ASSERT_TRUE(bus);
  publish(**bus,
          {event("e1", 1, "surplus.offered"), event("e2", 2, "surplus.offered"), event("e3", 3, "surplus.offered")});
  Holder a;
  auto first = hold(link(nats), a);
  ASSERT_EQ(a.wait_for(3, std::chrono::seconds(20)), 3u);
  a.finish(0);
  a.finish(2);  // e2's effect goes on
  Holder b;
  auto second = hold(link(nats), b);  // another replica on the same durable consumer
  // While the first lives it tells JetStream e2 is in progress: three ack waits pass, no redelivery.
  EXPECT_EQ(b.wait_for(1, std::chrono::seconds(3)), 0u);
  first.reset();  // the first stops (for JetStream, as if it crashed): e2 was never acknowledged
  a.finish(1);    // a `done` after its consumer is gone acknowledges nothing and is harmless
  ASSERT_EQ(b.wait_for(1, std::chrono::seconds(20)), 1u);
  EXPECT_EQ(b.ids(), std::vector<std::string>{"e2"}) << "only the one whose effect never ended";
  b.finish(0);
}

TEST(JetStreamConsumer, EachEventReachesTheSubscribersOnceInOrderWithWhatTravelsBesideIt) {
  NatsServerProcess nats;
  nats.start();
  auto bus = JetStreamBus::connect(link(nats), nullptr);
  ASSERT_TRUE(bus);
  publish(**bus, {event("e1", 1), event("e2", 2, "surplus.offered"), event("e3", 3)});
  publish(**bus, {event("e1", 1), event("e2", 2, "surplus.offered")});  // a replay within the window
  Recorder r;
  MetricsRegistry metrics;
  auto c = consume(link(nats), r, &metrics);
  auto got = r.wait_for(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, "e1");
  EXPECT_EQ(got[1].id, "e2");
  EXPECT_EQ(got[2].id, "e3");
  const Event want = event("e2", 2, "surplus.offered");
  EXPECT_EQ(got[1].type, want.type);
  EXPECT_EQ(got[1].surplus_id, want.surplus_id);
  EXPECT_EQ(got[1].seq, 2);
  EXPECT_EQ(got[1].recipient, "ngo-7");
  EXPECT_EQ(got[1].region, "3e4");
  EXPECT_EQ(got[1].traceparent, want.traceparent);
  EXPECT_EQ(got[1].occurred_at, want.occurred_at);
  EXPECT_EQ(got[1].data_json, want.data_json);
  c.reset();  // stops after the batch in hand
  EXPECT_EQ(r.events().size(), 3u) << "nothing more arrived";
}

TEST(JetStreamConsumer, ARepublishAfterTheDuplicateWindowIsAcknowledgedButNotAppliedAgain) {
  NatsServerProcess nats;
  nats.start();
  const auto o = link(nats, std::chrono::seconds(1));
  auto bus = JetStreamBus::connect(o, nullptr);
  ASSERT_TRUE(bus);
  Recorder r;
  MetricsRegistry metrics;
  auto c = consume(o, r, &metrics);
  publish(**bus, {event("e1", 1)});
  ASSERT_EQ(r.wait_for(1).size(), 1u);
  // The relay's replay after a long outage: re-published until the stream, its window past, keeps
  // it as a second message (a bounded poll of the server's state).
  bool stored_twice = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
       !stored_twice && std::chrono::steady_clock::now() < until;) {
    publish(**bus, {event("e1", 1)});
    stored_twice = nats.read_stream("PAHLAWAN").size() == 2;
    if (!stored_twice) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(stored_twice) << "the stream never took the re-publish";
  Counter& repeats = metrics.counter("bus_consumer_repeats_total", "", "consumer=\"test\"");
  for (int i = 0; i < 200 && repeats.value() < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(repeats.value(), 1) << "the second message was seen and recognised";
  EXPECT_EQ(r.events().size(), 1u) << "applied once";
}

TEST(JetStreamConsumer, ADurableConsumerStartedAgainResumesAfterWhatItAcknowledged) {
  NatsServerProcess nats;
  nats.start();
  auto bus = JetStreamBus::connect(link(nats), nullptr);
  ASSERT_TRUE(bus);
  publish(**bus, {event("e1", 1), event("e2", 2)});
  {
    Recorder first;
    auto c = consume(link(nats), first, nullptr);
    ASSERT_EQ(first.wait_for(2).size(), 2u);
  }  // stopped: its acks were flushed
  publish(**bus, {event("e3", 3)});
  Recorder second;
  auto c = consume(link(nats), second, nullptr);
  auto got = second.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "e3") << "the first two were acknowledged by the first run";
}

// An operator changes --bus-ack-wait-ms: the consumer stored in JetStream is updated, not refused.
TEST(JetStreamConsumer, ADurableConsumerRestartedWithAnotherAckWaitStillConsumes) {
  NatsServerProcess nats;
  nats.start();
  auto bus = JetStreamBus::connect(link(nats), nullptr);
  ASSERT_TRUE(bus);
  publish(**bus, {event("e1", 1)});
  {
    Recorder first;
    auto c = consume(link(nats), first, nullptr);
    ASSERT_EQ(first.wait_for(1).size(), 1u);
  }
  publish(**bus, {event("e2", 2)});
  JetStreamConsumerOptions co;
  co.link = link(nats);
  co.durable = "test";
  co.ack_wait = std::chrono::seconds(7);
  co.max_ack_pending = 5000;
  Recorder second;
  auto c = JetStreamConsumer::start(co, {&second}, nullptr);
  ASSERT_TRUE(c) << c.status().message();
  auto got = second.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << "bound to the consumer with its new settings";
  EXPECT_EQ(got[0].id, "e2");
}

TEST(JetStreamConsumer, StartsWhileNatsIsDownAndConsumesOnceItIsUp) {
  NatsServerProcess nats;  // not started yet
  Recorder r;
  nats.start();
  const auto o = link(nats);
  nats.stop();
  auto c = consume(o, r, nullptr);
  ASSERT_TRUE(c);
  nats.start();
  auto bus = JetStreamBus::connect(o, nullptr);
  ASSERT_TRUE(bus);
  for (int i = 0; i < 100; ++i) {  // the bus's connection comes up in the background
    bus.value()->publish(event("e1", 1));
    if (bus.value()->flush()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto got = r.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, "e1");
}

}  // namespace
}  // namespace pahlawan::testing

// JetStreamBus against a real nats-server: what reaches the stream, what a replay adds (nothing,
// within the de-duplication window), and what an outage does to the relay (holds it back; the
// outbox drains when NATS returns, each event once).
#include <chrono>
#include <future>
#include <thread>

#include "adapters/nats/jetstream_bus.h"
#include "engine/outbox_relay.h"
#include "in_memory_store.h"
#include "nats_server_process.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

Event event(const std::string& id, const std::string& type = "surplus.posted") {
  Event e;
  e.id = id;
  e.type = type;
  e.surplus_id = "item-" + id;
  e.occurred_at = from_unix_ms(1'795'000'000'000);
  e.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  e.data_json = "{}";
  if (type.rfind("surplus.", 0) == 0) e.region = "3e4";  // an S2 token at the region level
  return e;
}

std::unique_ptr<JetStreamBus> connect(const NatsServerProcess& nats, MetricsRegistry* metrics = nullptr,
                                      std::chrono::milliseconds ack_wait = std::chrono::milliseconds(5000)) {
  JetStreamOptions o;
  o.url = nats.url();
  o.ack_wait = ack_wait;
  auto bus = JetStreamBus::connect(o, metrics);
  EXPECT_TRUE(bus) << bus.status().message();
  if (!bus) return nullptr;
  // The connection comes up in the background: the tests' first batch waits for it (bounded) when
  // NATS is up, so that it counts exactly what it published.
  for (int i = 0; i < 400 && nats.running() && !(*bus)->connected(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return std::move(*bus);
}

TEST(JetStreamBus, EachEventReachesTheStreamOnceWithItsIdAndTraceContext) {
  NatsServerProcess nats;
  nats.start();
  MetricsRegistry metrics;
  auto bus = connect(nats, &metrics);
  ASSERT_TRUE(bus);
  for (const char* id : {"e1", "e2"}) bus->publish(event(id));
  bus->publish(event("e3", "surplus.offered"));
  bus->publish(event("e4", "admin.ngo_registered"));
  ASSERT_TRUE(bus->flush());
  // The relay's replay after a crash between publish and cursor: the same events again.
  for (const char* id : {"e1", "e2"}) bus->publish(event(id));
  ASSERT_TRUE(bus->flush());

  auto messages = nats.read_stream("PAHLAWAN");
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].headers["Nats-Msg-Id"], "e1");
  EXPECT_EQ(messages[1].headers["Nats-Msg-Id"], "e2");
  EXPECT_EQ(messages[2].headers["Nats-Msg-Id"], "e3");
  EXPECT_EQ(messages[2].subject, "pp.surplus.offered.3e4");
  EXPECT_EQ(messages[3].subject, "pp.admin.ngo_registered.global") << "no region: the global subject";
  EXPECT_EQ(messages[0].headers["traceparent"], event("e1").traceparent);
  EXPECT_NE(messages[0].data.find("\"id\":\"e1\""), std::string::npos) << messages[0].data;
  EXPECT_EQ(metrics.counter("bus_duplicates_total", "").value(), 2);
  EXPECT_EQ(metrics.counter("bus_published_total", "").value(), 6);
}

TEST(JetStreamBus, AnOutageHoldsTheRelayBackAndTheOutboxDrainsWhenNatsReturns) {
  NatsServerProcess nats;
  nats.start();
  InMemoryStore store;
  auto bus = connect(nats, nullptr, std::chrono::milliseconds(500));
  ASSERT_TRUE(bus);
  auto commit = [&](const std::string& id) {
    UnitOfWork u;
    u.events.push_back(event(id));
    std::promise<Status> done;
    store.commit(std::move(u), [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get());
  };
  OutboxRelay relay(store, *bus, "nats");  // driven by hand: run_once
  commit("before");
  ASSERT_TRUE(relay.run_once());
  EXPECT_EQ(nats.read_stream("PAHLAWAN").size(), 1u);

  nats.stop();
  commit("during-1");
  commit("during-2");
  const int64_t held = relay.position();
  auto failed = relay.run_once();
  EXPECT_FALSE(failed) << "the bus confirmed events while NATS was down";
  EXPECT_EQ(relay.position(), held) << "the relay moved past events JetStream never confirmed";

  nats.start();  // same port, same storage
  Result<size_t> drained = Status(ErrorCode::kUnavailable, "not tried");
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !drained && std::chrono::steady_clock::now() < until;) {
    drained = relay.run_once();
    if (!drained) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // pacing retries until NATS is back
  }
  ASSERT_TRUE(drained) << drained.status().message();
  auto messages = nats.read_stream("PAHLAWAN");
  std::vector<std::string> ids;
  for (auto& m : messages) ids.push_back(m.headers["Nats-Msg-Id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"before", "during-1", "during-2"})) << "each event once, in order";
}

}  // namespace
}  // namespace pahlawan::testing

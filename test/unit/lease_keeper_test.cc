// LeaseKeeper on the in-memory store's leases and a fake clock: a partition is taken once and then
// answered from memory; renewals keep it from another replica for as long as they go on; a replica
// that stopped renewing (paused past its TTL) finds its lease taken and drops the partition; one
// whose store stops answering drops it after a TTL on its own; release_all lets the next owner in
// at once; a partition is told gained and lost exactly once each.
#include "engine/lease_keeper.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "domain/geo.h"
#include "fake_clock.h"
#include "in_memory_store.h"

namespace pahlawan::testing {
namespace {

using std::chrono::seconds;
constexpr Millis kTtl = seconds(9);

// The in-memory store's leases, with a switch that makes every call fail (the store unreachable)
// and a count of the calls that reached it.
class SwitchableLeases final : public LeaseStore {
 public:
  explicit SwitchableLeases(LeaseStore& inner) : inner_(inner) {}
  Result<std::optional<Lease>> acquire(int64_t p, const std::string& owner, Millis ttl) override {
    ++calls;
    if (down) return Status(ErrorCode::kUnavailable, "down");
    return inner_.acquire(p, owner, ttl);
  }
  Status release(int64_t p, const std::string& owner, int64_t epoch) override {
    return down ? Status(ErrorCode::kUnavailable, "down") : inner_.release(p, owner, epoch);
  }
  Result<std::optional<Lease>> hand_over(int64_t p, const std::string& from, int64_t epoch, const std::string& to,
                                         Millis ttl) override {
    if (down) return Status(ErrorCode::kUnavailable, "down");
    return inner_.hand_over(p, from, epoch, to, ttl);
  }
  Result<std::vector<Lease>> leases() override { return inner_.leases(); }
  bool down = false;
  int calls = 0;

 private:
  LeaseStore& inner_;
};

struct Replica {
  Replica(LeaseStore& store, const Clock& clock, const std::string& name)
      : keeper(store, clock, name, kTtl,
               LeaseKeeper::Callbacks{[this](int64_t p, int64_t e) { gained.emplace_back(p, e); },
                                      [this](int64_t p) { lost.push_back(p); }}) {}
  std::vector<std::pair<int64_t, int64_t>> gained;
  std::vector<int64_t> lost;
  LeaseKeeper keeper;
};

class LeaseKeeperTest : public ::testing::Test {
 protected:
  LeaseKeeperTest() { store.set_lease_clock(&clock); }
  FakeClock clock;
  InMemoryStore store;
  SwitchableLeases leases{store};
};

TEST_F(LeaseKeeperTest, APartitionIsTakenOnceThenAnsweredFromMemory) {
  Replica a(leases, clock, "a");
  EXPECT_EQ(a.keeper.epoch_for(10), 1);
  EXPECT_EQ(a.keeper.epoch_for(10), 1);
  EXPECT_EQ(leases.calls, 1);
  EXPECT_EQ(a.gained, (std::vector<std::pair<int64_t, int64_t>>{{10, 1}}));
  EXPECT_EQ(a.keeper.held(), std::vector<int64_t>{10});
}

TEST_F(LeaseKeeperTest, RenewalsKeepAPartitionFromAnotherReplica) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  for (int i = 0; i < 10; ++i) {
    clock.advance(seconds(3));  // a third of the TTL: every tick renews
    a.keeper.tick();
    EXPECT_EQ(b.keeper.epoch_for(10), std::nullopt) << i;
  }
  EXPECT_TRUE(a.lost.empty());
  EXPECT_EQ(a.keeper.epoch_for(10), 1);
}

TEST_F(LeaseKeeperTest, AReplicaPausedPastItsTtlFindsThePartitionTakenAndDropsIt) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  clock.advance(seconds(10));  // a is paused: no tick for longer than the TTL
  EXPECT_EQ(b.keeper.epoch_for(10), 2);
  EXPECT_EQ(b.gained, (std::vector<std::pair<int64_t, int64_t>>{{10, 2}}));
  a.keeper.tick();  // a resumes: its renewal is refused
  EXPECT_EQ(a.lost, std::vector<int64_t>{10});
  EXPECT_TRUE(a.keeper.held().empty());
  EXPECT_EQ(a.keeper.epoch_for(10), std::nullopt);
  a.keeper.tick();
  EXPECT_EQ(a.lost.size(), 1u) << "told once";
  EXPECT_EQ(a.keeper.lost(), 1) << "counted once";
}

TEST_F(LeaseKeeperTest, WithoutTheStoreAReplicaDropsItsPartitionAfterATtlByItself) {
  Replica a(leases, clock, "a");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  leases.down = true;
  clock.advance(seconds(4));
  a.keeper.tick();
  EXPECT_TRUE(a.lost.empty()) << "not yet: the lease is still ours until the TTL";
  EXPECT_EQ(a.keeper.epoch_for(10), 1) << "still answered from memory";
  clock.advance(seconds(5));  // 9 s since the last renewal was sent
  a.keeper.tick();
  EXPECT_EQ(a.lost, std::vector<int64_t>{10}) << "the store may give it to someone else from now on";
  EXPECT_EQ(a.keeper.epoch_for(10), std::nullopt);
}

TEST_F(LeaseKeeperTest, ALeaseThatLapsedAndWasTakenBackIsLostThenGainedAgain) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  clock.advance(seconds(10));
  ASSERT_EQ(b.keeper.epoch_for(10), 2);
  clock.advance(seconds(10));  // b pauses too; a asks again before its own tick
  EXPECT_EQ(a.keeper.epoch_for(10), 3);
  EXPECT_EQ(a.lost, std::vector<int64_t>{10}) << "epoch 1's state is stale: dropped first";
  EXPECT_EQ(a.gained, (std::vector<std::pair<int64_t, int64_t>>{{10, 1}, {10, 3}}));
  // The counts the lease-change metrics export, one per gain and loss.
  EXPECT_EQ(a.keeper.acquired(), 2);
  EXPECT_EQ(a.keeper.lost(), 1);
  EXPECT_EQ(b.keeper.acquired(), 1);
  EXPECT_EQ(b.keeper.lost(), 0) << "b has not looked since";
}

TEST_F(LeaseKeeperTest, ReleaseAllLetsTheNextOwnerInAtOnce) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  ASSERT_EQ(a.keeper.epoch_for(12), 1);
  a.keeper.release_all();
  EXPECT_TRUE(a.keeper.held().empty());
  EXPECT_EQ(b.keeper.epoch_for(10), 2);
  EXPECT_EQ(b.keeper.epoch_for(12), 2);
}

// ---- balancing ----

size_t partitions(const Replica& r) {
  size_t n = 0;
  for (int64_t p : r.keeper.held()) n += LeaseKeeper::balanced(p);
  return n;
}

// Ticks every replica in `rs` each simulated second, for `seconds_` seconds.
void run(FakeClock& clock, std::vector<Replica*> rs, int seconds_) {
  for (int i = 0; i < seconds_; ++i) {
    clock.advance(seconds(1));
    for (Replica* r : rs) r->keeper.tick();
  }
}

TEST_F(LeaseKeeperTest, AReplicaAboveItsShareHandsPartitionsToANewcomerUntilEvenAndThenNothingMoves) {
  Replica a(leases, clock, "a");
  for (int64_t p : {10, 12, 14, 16, 18}) ASSERT_EQ(a.keeper.epoch_for(p), 1);
  a.keeper.epoch_for(0);  // the bus relay's lease: not a partition, never handed over
  Replica b(leases, clock, "b");
  run(clock, {&a, &b}, 30);
  EXPECT_EQ(partitions(a), 3u);
  EXPECT_EQ(partitions(b), 2u) << "five partitions over two replicas: three and two";
  EXPECT_TRUE(a.keeper.holds(0));
  EXPECT_EQ(a.keeper.handed_over(), 2);
  // b adopted each at the next epoch (its state is loaded afresh), a dropped each once.
  EXPECT_EQ(b.gained.size(), 2u);
  for (auto [p, epoch] : b.gained) EXPECT_EQ(epoch, 2) << p;
  EXPECT_EQ(a.lost.size(), 2u);
  for (auto [p, epoch] : b.gained) EXPECT_EQ(a.keeper.epoch_for(p), std::nullopt) << "given: " << p;
  auto elsewhere = a.keeper.fence_for(b.gained.front().first);
  ASSERT_FALSE(elsewhere);
  EXPECT_EQ(elsewhere.status().code(), ErrorCode::kElsewhere);
  EXPECT_EQ(elsewhere.status().message(), "b") << "a forwards to the receiver";
  run(clock, {&a, &b}, 60);
  EXPECT_EQ(a.keeper.handed_over() + b.keeper.handed_over(), 2) << "a fair split stays put";
}

TEST_F(LeaseKeeperTest, ThreeReplicasAfterOneDiedLevelOutOverTheSurvivors) {
  Replica a(leases, clock, "a"), b(leases, clock, "b"), c(leases, clock, "c");
  for (int64_t p = 10; p < 30; p += 2) ASSERT_TRUE(a.keeper.epoch_for(p));  // ten partitions
  run(clock, {&a, &b, &c}, 40);
  EXPECT_EQ(partitions(a), 4u);
  EXPECT_EQ(partitions(b) + partitions(c), 6u);
  EXPECT_LE(std::max(partitions(b), partitions(c)), 4u);
  run(clock, {&b, &c}, 60);  // a is dead: its leases lapse, the survivors take and share them
  EXPECT_EQ(partitions(b), 5u);
  EXPECT_EQ(partitions(c), 5u);
}

TEST_F(LeaseKeeperTest, AMemberThatLeftIsGivenNothingAndWhatItReleasedIsTakenAtOnce) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  for (int64_t p : {10, 12, 14, 16}) ASSERT_EQ(a.keeper.epoch_for(p), 1);
  run(clock, {&a, &b}, 30);
  ASSERT_EQ(partitions(b), 2u);
  b.keeper.release_all();  // a clean shutdown: its member lease too
  run(clock, {&a}, 4);     // the next read sees the releases
  EXPECT_EQ(partitions(a), 4u) << "taken back without waiting for orphans";
  const int64_t given = a.keeper.handed_over();
  run(clock, {&a}, 30);
  EXPECT_EQ(a.keeper.handed_over(), given) << "nothing handed to a member that left";
  EXPECT_EQ(partitions(a), 4u);
}

TEST_F(LeaseKeeperTest, ADeadReplicasPartitionsCountAsOrphanedUntilTaken) {
  Replica a(leases, clock, "a"), b(leases, clock, "b");
  ASSERT_EQ(a.keeper.epoch_for(10), 1);
  ASSERT_EQ(a.keeper.epoch_for(12), 1);
  run(clock, {&a, &b}, 10);
  ASSERT_EQ(partitions(b), 1u) << "a handed b its share";
  EXPECT_EQ(b.keeper.orphaned_seen(), 0) << "renewed: owned";
  int64_t most = 0;
  for (int i = 0; i < 30; ++i) {  // a is dead from here
    run(clock, {&b}, 1);
    most = std::max(most, b.keeper.orphaned_seen());
  }
  EXPECT_EQ(most, 1) << "a's one seen without an owner before the takeover";
  EXPECT_EQ(b.keeper.orphaned_seen(), 0) << "then taken";
  EXPECT_EQ(partitions(b), 2u);
}

TEST(Partition, NearbyCellsShareAPartitionAndAFarOneDoesNot) {
  const uint64_t monas = cell_id_at(-6.1754, 106.8272, 13), nearby = cell_id_at(-6.1760, 106.8280, 13);
  const uint64_t bandung = cell_id_at(-6.9175, 107.6191, 13);
  EXPECT_EQ(partition_of_cell(monas), partition_of_cell(nearby));
  EXPECT_NE(partition_of_cell(monas), partition_of_cell(bandung));
  EXPECT_EQ(partition_of_cell(monas), static_cast<int64_t>(cell_id_at(-6.1754, 106.8272, kPartitionLevel)));
}

}  // namespace
}  // namespace pahlawan::testing

// The LeaseStore contract (src/ports/lease_store.h) and the Store's fencing (UnitOfWork::fence), one
// suite run against every implementation (store_harnesses.cc): a free partition is granted at epoch
// 1, renewed without a change, refused to another owner until it expires or is released, and taken
// over at the next epoch, or handed over by its holder to a named owner at the next epoch; a unit
// fenced at an epoch the lease has left writes nothing, inserts included, and fails alone among
// units committed with it; an offer beyond its NGO's limits (the budget several replicas share)
// fails alone too.
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "store_harness.h"
#include "store_samples.h"

namespace pahlawan::testing {
namespace {

using std::chrono::seconds;
constexpr Millis kLong = seconds(30);
constexpr Millis kExpired{0};  // expires at once: the next call sees it expired

class LeaseContract : public ::testing::TestWithParam<StoreImplementation> {
 protected:
  void SetUp() override { h_ = GetParam().make(); }
  LeaseStore& leases() { return h_->leases(); }
  Store& store() { return h_->store(); }

  std::optional<Lease> acquire(int64_t partition, const std::string& owner, Millis ttl) {
    auto r = leases().acquire(partition, owner, ttl);
    EXPECT_TRUE(r) << r.status().message();
    return r ? *r : std::nullopt;
  }
  Status commit(UnitOfWork u) {
    std::promise<Status> p;
    auto f = p.get_future();
    store().commit(std::move(u), [&](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }
  static UnitOfWork posting(const std::string& id, std::optional<UnitOfWork::Fence> fence) {
    UnitOfWork u;
    u.inserts.push_back(sample_surplus(id));
    u.events.push_back(sample_event(sample_surplus(id), "e-" + id));
    u.fence = fence;
    return u;
  }
  bool exists(const std::string& id) {
    auto r = store().find_surplus(id);
    EXPECT_TRUE(r) << r.status().message();
    return r && r->has_value();
  }
  bool in_outbox(const std::string& event_id) {
    auto events = store().read_outbox(0, 100000);
    EXPECT_TRUE(events);
    for (const auto& e : *events) {
      if (e.id == event_id) return true;
    }
    return false;
  }

  std::unique_ptr<StoreHarness> h_;
};

TEST_P(LeaseContract, AFreePartitionIsGrantedAtEpochOneAndARenewalChangesNoEpoch) {
  const TimePoint before = SystemClock().now();
  auto first = acquire(7, "replica-a", kLong);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->partition, 7);
  EXPECT_EQ(first->owner, "replica-a");
  EXPECT_EQ(first->epoch, 1);
  EXPECT_GE(first->expires_at, before + kLong - seconds(5)) << "expires about a TTL from now";
  auto renewed = acquire(7, "replica-a", kLong);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->epoch, 1);
  EXPECT_GE(renewed->expires_at, first->expires_at);
}

// The herd's first posts of a partition all ask for its lease at once, from one replica: every one
// of them gets it (one creates it, the others find it theirs), none is refused by its own replica.
TEST_P(LeaseContract, ManyThreadsOfOneOwnerTakingAFreePartitionAtOnceAllGetIt) {
  for (int round = 0; round < 5; ++round) {
    const int64_t partition = 100 + round;
    std::vector<std::future<Result<std::optional<Lease>>>> takers;
    for (int i = 0; i < 8; ++i) {
      takers.push_back(std::async(std::launch::async, [&] { return leases().acquire(partition, "replica-a", kLong); }));
    }
    for (auto& t : takers) {
      auto r = t.get();
      ASSERT_TRUE(r) << r.status().message();
      ASSERT_TRUE(r->has_value()) << "refused by its own replica (partition " << partition << ")";
      EXPECT_EQ((*r)->epoch, 1);
      EXPECT_EQ((*r)->owner, "replica-a");
    }
  }
}

TEST_P(LeaseContract, AnotherOwnerWaitsForTheExpiryThenTakesTheNextEpoch) {
  ASSERT_TRUE(acquire(7, "replica-a", kLong));
  EXPECT_FALSE(acquire(7, "replica-b", kLong)) << "held, unexpired";
  auto other = acquire(8, "replica-b", kLong);
  ASSERT_TRUE(other) << "partitions are independent";
  EXPECT_EQ(other->epoch, 1);
  ASSERT_TRUE(acquire(9, "replica-a", kExpired));
  auto taken = acquire(9, "replica-b", kLong);
  ASSERT_TRUE(taken) << "expired: anyone may take it";
  EXPECT_EQ(taken->owner, "replica-b");
  EXPECT_EQ(taken->epoch, 2);
  EXPECT_FALSE(acquire(9, "replica-a", kLong)) << "the old owner is now the one refused";
  auto all = leases().leases();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].partition, 9);
  EXPECT_EQ((*all)[2].owner, "replica-b");
  EXPECT_EQ((*all)[2].epoch, 2);
}

TEST_P(LeaseContract, OnlyTheHolderAtItsEpochCanReleaseAndThenTheNextOwnerNeedNotWait) {
  ASSERT_TRUE(acquire(7, "replica-a", kLong));
  ASSERT_TRUE(leases().release(7, "replica-b", 1));  // not the holder: nothing happens
  ASSERT_TRUE(leases().release(7, "replica-a", 2));  // not its epoch: nothing happens
  EXPECT_FALSE(acquire(7, "replica-b", kLong));
  ASSERT_TRUE(leases().release(7, "replica-a", 1));
  auto taken = acquire(7, "replica-b", kLong);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->epoch, 2);
}

TEST_P(LeaseContract, AHandOverGivesTheLeaseToTheNextOwnerAtTheNextEpochAndFencesTheGiver) {
  ASSERT_TRUE(acquire(7, "replica-a", kLong));
  ASSERT_TRUE(commit(posting("x", UnitOfWork::Fence{7, 1})));
  auto not_holder = leases().hand_over(7, "replica-c", 1, "replica-b", kLong);
  ASSERT_TRUE(not_holder);
  EXPECT_FALSE(*not_holder) << "only the holder gives a lease away";
  auto wrong_epoch = leases().hand_over(7, "replica-a", 2, "replica-b", kLong);
  ASSERT_TRUE(wrong_epoch);
  EXPECT_FALSE(*wrong_epoch) << "and only at its epoch";

  auto given = leases().hand_over(7, "replica-a", 1, "replica-b", kLong);
  ASSERT_TRUE(given) << given.status().message();
  ASSERT_TRUE(*given);
  EXPECT_EQ((*given)->owner, "replica-b");
  EXPECT_EQ((*given)->epoch, 2);
  EXPECT_FALSE(acquire(7, "replica-a", kLong)) << "the giver is refused: the lease runs for the receiver";
  auto renewed = acquire(7, "replica-b", kLong);
  ASSERT_TRUE(renewed) << "the receiver finds it its own";
  EXPECT_EQ(renewed->epoch, 2);

  Status late = commit(posting("y", UnitOfWork::Fence{7, 1}));
  EXPECT_EQ(late.code(), ErrorCode::kUnavailable) << late.message();
  EXPECT_FALSE(exists("y")) << "the giver's commits after the hand-over write nothing";
  EXPECT_TRUE(commit(posting("z", UnitOfWork::Fence{7, 2})));
  auto again = leases().hand_over(7, "replica-a", 1, "replica-c", kLong);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "given once";
}

TEST_P(LeaseContract, AUnitFencedAtALeftEpochWritesNothing) {
  ASSERT_TRUE(acquire(7, "replica-a", kExpired));
  // Expired but not taken: the holder's writes still go in (nobody else can have written).
  ASSERT_TRUE(commit(posting("x", UnitOfWork::Fence{7, 1})));
  auto taken = acquire(7, "replica-b", kLong);
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->epoch, 2);

  Status late = commit(posting("y", UnitOfWork::Fence{7, 1}));
  EXPECT_EQ(late.code(), ErrorCode::kUnavailable) << late.message();
  EXPECT_FALSE(exists("y")) << "an insert is fenced too";
  EXPECT_FALSE(in_outbox("e-y"));
  UnitOfWork update;
  Surplus x = sample_surplus("x");
  x.version = 2;
  update.updates.push_back(SurplusUpdate{x, 1});
  update.fence = UnitOfWork::Fence{7, 1};
  EXPECT_EQ(commit(std::move(update)).code(), ErrorCode::kUnavailable);
  auto still = store().find_surplus("x");
  ASSERT_TRUE(still && *still);
  EXPECT_EQ((*still)->version, 1);

  EXPECT_TRUE(commit(posting("z", UnitOfWork::Fence{7, 2}))) << "the new owner's epoch";
  EXPECT_EQ(commit(posting("w", UnitOfWork::Fence{99, 1})).code(), ErrorCode::kUnavailable) << "no lease at all";
  EXPECT_TRUE(commit(posting("v", std::nullopt))) << "an unfenced unit (the embedded default) is not checked";
}

TEST_P(LeaseContract, AFencedOutUnitFailsAloneAmongUnitsCommittedWithIt) {
  ASSERT_TRUE(acquire(7, "replica-a", kExpired));
  ASSERT_TRUE(acquire(7, "replica-b", kLong));  // epoch 2
  // The first commit stops inside itself; the rest queue behind it, so a store that batches commits
  // puts them in one transaction. With a duplicate id among them, that transaction is redone unit by
  // unit (savepoints): the fenced-out unit must fail there too.
  h_->pause_next_commit();
  std::vector<std::promise<Status>> results(31);
  auto submit = [&](int i, const std::string& id, int64_t epoch) {
    store().commit(posting(id, UnitOfWork::Fence{7, epoch}),
                   [&results, i](Status s) { results[i].set_value(std::move(s)); });
  };
  submit(0, "item-0", 2);
  h_->wait_paused();
  for (int i = 1; i < 30; ++i) submit(i, "item-" + std::to_string(i), i == 12 ? 1 : 2);
  UnitOfWork dup = posting("item-3", UnitOfWork::Fence{7, 2});
  dup.events.front().id = "e-dup";
  store().commit(std::move(dup), [&results](Status s) { results[30].set_value(std::move(s)); });
  h_->resume();
  for (int i = 0; i < 31; ++i) {
    Status s = results[i].get_future().get();
    if (i == 12) {
      EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.message();
    } else if (i == 30) {
      EXPECT_EQ(s.code(), ErrorCode::kConflict) << "a duplicate id: " << s.message();
    } else {
      EXPECT_TRUE(s) << i << ": " << s.message();
    }
  }
  for (int i = 0; i < 30; ++i) EXPECT_EQ(exists("item-" + std::to_string(i)), i != 12) << i;
  EXPECT_FALSE(in_outbox("e-item-12"));
  EXPECT_FALSE(in_outbox("e-dup"));
}

// NGO budgets (UnitOfWork::budget): an offer commits only if its NGO still has room, counting every
// offer and claim the store holds — whichever process made them — and the offers committed with it.
TEST_P(LeaseContract, AnOfferBeyondItsNgosLimitsFailsAloneAndWritesNothing) {
  UnitOfWork reg;
  reg.ngo = UnitOfWork::NgoInsert{Ngo{"n1", "Panti", -6.2, 106.8, NgoKind::kNgo, {}, 10.0, std::nullopt, kSampleNow},
                                  "hash", std::nullopt};
  ASSERT_TRUE(commit(std::move(reg)));
  for (const char* id : {"a", "b", "c", "d"}) ASSERT_TRUE(commit(posting(id, std::nullopt)));  // 4.5 kg each
  auto offer = [&](const std::string& id, int max_pending, std::optional<double> capacity = std::nullopt) {
    Surplus s = sample_surplus(id);
    Surplus after = s;
    after.version = 2;
    after.offer = Offer{"n1", kSampleNow + seconds(300), 1};
    after.offered_to = {"n1"};
    UnitOfWork u;
    u.updates.push_back(SurplusUpdate{after, 1});
    u.events.push_back(sample_event(after, "offer-" + id, event_type::kOffered));
    u.budget = OfferBudget{"n1", s.quantity_kg, max_pending, capacity, kSampleNow - std::chrono::hours(24)};
    return u;
  };
  auto version_of = [&](const std::string& id) { return (*store().find_surplus(id))->version; };

  ASSERT_TRUE(commit(offer("a", 2)));
  // Two more offers committed together: the first fits the cap of 2, the second no longer does.
  std::promise<Status> b, c;
  store().commit(offer("b", 2), [&](Status s) { b.set_value(std::move(s)); });
  store().commit(offer("c", 2), [&](Status s) { c.set_value(std::move(s)); });
  EXPECT_TRUE(b.get_future().get());
  const Status refused = c.get_future().get();
  EXPECT_EQ(refused.code(), ErrorCode::kConflict) << refused.message();
  EXPECT_EQ(version_of("c"), 1) << "nothing of the refused offer written";
  EXPECT_FALSE(in_outbox("offer-c"));
  // Capacity: 10 kg in 24 hours, 9 kg offered already: 4.5 kg more does not fit, whatever the cap.
  EXPECT_EQ(commit(offer("d", 10, 10.0)).code(), ErrorCode::kConflict);
  EXPECT_TRUE(commit(offer("d", 10, 13.5))) << "9 + 4.5 kg fits 13.5 kg";
}

INSTANTIATE_TEST_SUITE_P(Every, LeaseContract, ::testing::ValuesIn(store_implementations()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace pahlawan::testing

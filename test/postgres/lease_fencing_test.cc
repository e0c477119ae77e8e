// Fencing on PostgreSQL, the way a takeover races a commit: a unit fenced at epoch 1 has passed its
// fence check and stands inside its transaction (paused before COMMIT) when another replica takes
// the expired lease. The check locked the lease row (FOR KEY SHARE), so the takeover (FOR UPDATE)
// waits for that commit: when the new owner holds the lease, the old owner's last write is already
// visible to it — it can load the partition's state knowing nothing of the old epoch commits after.
// The owner's own renewal, a plain UPDATE, does not wait. And a replica paused inside such a
// transaction (SIGSTOP) holds the lease only until the stall limit: the server ends its transaction,
// which commits nothing, and the takeover goes ahead.
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "adapters/postgres/pg_conn.h"

#include <libpq-fe.h>
#include "adapters/postgres/pg_store.h"
#include "common/fault.h"
#include "pg_test_db.h"
#include "store_samples.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

class LeaseFencing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    open(Millis(0));
  }
  void open(Millis stall_limit) {
    store_.reset();
    PostgresStoreOptions o;
    o.url = db_.url();
    o.stall_limit = stall_limit;
    o.session_name = "replica-a";
    auto s = PostgresStore::open(o, nullptr);
    ASSERT_TRUE(s) << s.status().message();
    store_ = std::move(*s);
  }
  void TearDown() override { fault::disarm_all(); }

  // Commits a new item fenced at (7, epoch); with `paused`, returns once its transaction stands
  // before COMMIT, its fence checked and the lease row locked, until fault::resume.
  std::future<Status> commit_fenced(const std::string& id, int64_t epoch, bool paused) {
    if (paused) fault::arm({.point = "store.before_commit", .action = fault::Action::kPause, .times = 1});
    UnitOfWork u;
    u.inserts.push_back(sample_surplus(id));
    u.events.push_back(sample_event(sample_surplus(id), "e-" + id));
    u.fence = UnitOfWork::Fence{7, epoch};
    auto done = std::make_shared<std::promise<Status>>();
    auto outcome = done->get_future();
    store_->commit(std::move(u), [done](Status st) { done->set_value(std::move(st)); });
    if (paused) {
      EXPECT_TRUE(fault::wait_hits("store.before_commit", 1, 30000));
    }
    return outcome;
  }
  void resume() {
    fault::resume("store.before_commit");
    fault::disarm_all();
  }

  PgTestDb db_;
  std::unique_ptr<PostgresStore> store_;
};

TEST_F(LeaseFencing, ATakeoverWaitsForTheCommitOfAUnitThatPassedItsFence) {
  PostgresStore& s = *store_;
  auto held = s.acquire(7, "replica-a", Millis(0));  // expires at once: free to take
  ASSERT_TRUE(held && *held);
  ASSERT_EQ((*held)->epoch, 1);
  auto committed = commit_fenced("x", 1, true);

  // Another replica takes the lease, then reads what the partition holds.
  auto takeover = std::async(std::launch::async, [&s] {
    auto lease = s.acquire(7, "replica-b", std::chrono::seconds(30));
    auto x = s.find_surplus("x");
    return std::make_pair(lease && *lease ? (*lease)->epoch : 0, x && x->has_value());
  });
  // It waits on the lease row's lock (a bounded poll of the server's own view).
  auto admin = PgConn::connect(db_.url());
  ASSERT_TRUE(admin);
  bool waiting = false;
  for (int i = 0; i < 400 && !waiting; ++i) {
    auto r = (*admin)->query(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
    ASSERT_TRUE(r) << r.status().message();
    waiting = r->int64(0, 0) > 0;
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(waiting) << "the takeover did not wait for the fenced transaction";
  EXPECT_EQ(takeover.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);

  resume();
  EXPECT_TRUE(committed.get()) << "it passed its fence before the takeover";
  auto [epoch, visible] = takeover.get();
  EXPECT_EQ(epoch, 2);
  EXPECT_TRUE(visible) << "the new owner sees the old owner's last write";
  // And from now on the old epoch writes nothing.
  EXPECT_EQ(commit_fenced("y", 1, false).get().code(), ErrorCode::kUnavailable);
}

TEST_F(LeaseFencing, TheOwnersRenewalDoesNotWaitForItsFencedCommit) {
  PostgresStore& s = *store_;
  ASSERT_TRUE(s.acquire(7, "replica-a", std::chrono::seconds(30)));
  auto committed = commit_fenced("x", 1, true);  // the lease row is locked KEY SHARE
  auto renewal = std::async(std::launch::async, [&s] { return s.acquire(7, "replica-a", std::chrono::seconds(30)); });
  const bool returned = renewal.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  EXPECT_TRUE(returned) << "the renewal waited for the owner's own fenced commit";
  resume();
  auto lease = renewal.get();
  ASSERT_TRUE(lease && *lease);
  EXPECT_EQ((*lease)->epoch, 1);
  EXPECT_TRUE(committed.get()) << "a renewal keeps the epoch: the fence still holds";
}

TEST_F(LeaseFencing, AReplicaStalledInsideItsCommitHoldsThePartitionOnlyUntilTheStallLimit) {
  open(std::chrono::seconds(1));
  PostgresStore& s = *store_;
  auto held = s.acquire(7, "replica-a", Millis(0));
  ASSERT_TRUE(held && *held);
  auto committed = commit_fenced("x", 1, true);  // stalled before COMMIT, the lease row locked
  // Another replica tries to take the lease until it can (each try waits for the lock at most the
  // stall limit; the server ends the stalled transaction after it).
  std::optional<Lease> taken;
  for (int i = 0; i < 30 && !taken; ++i) {
    auto lease = s.acquire(7, "replica-b", std::chrono::seconds(30));
    if (lease && *lease) taken = **lease;
  }
  ASSERT_TRUE(taken) << "the stalled transaction held the lease row for good";
  EXPECT_EQ(taken->epoch, 2);
  resume();
  EXPECT_FALSE(committed.get()) << "the stalled commit was ended, not applied";
  auto x = s.find_surplus("x");
  ASSERT_TRUE(x);
  EXPECT_FALSE(x->has_value()) << "nothing of it written";
}

// The stall the server has no timeout for: inside a pipeline, the transaction open and its lock
// taken, the rest of the batch never sent (the process stopped while sending). The replica taking
// over ends the old owner's sessions once its lease is a stall limit past expiry.
TEST_F(LeaseFencing, AReplicaStalledInsideAPipelineHasItsSessionsEndedByTheTakeover) {
  open(std::chrono::seconds(1));
  PostgresStore& s = *store_;
  ASSERT_TRUE(s.acquire(7, "replica-a", Millis(0)));
  const char* keys[] = {"dbname", "application_name", nullptr};
  const char* values[] = {db_.url().c_str(), "replica-a", nullptr};
  PGconn* stalled = PQconnectdbParams(keys, values, 1);
  ASSERT_EQ(PQstatus(stalled), CONNECTION_OK) << PQerrorMessage(stalled);
  ASSERT_EQ(PQenterPipelineMode(stalled), 1);
  ASSERT_EQ(PQsendQueryParams(stalled, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(stalled, "SELECT epoch FROM leases WHERE partition_id = 7 FOR KEY SHARE", 0, nullptr,
                              nullptr, nullptr, nullptr, 0),
            1);
  ASSERT_EQ(PQflush(stalled), 0);  // sent, no Sync: the server waits for the rest, with no timeout
  // The lock is taken once the server has run the SELECT (a bounded poll of its own view).
  auto admin = PgConn::connect(db_.url());
  ASSERT_TRUE(admin);
  bool locked = false;
  for (int i = 0; i < 200 && !locked; ++i) {
    auto r = (*admin)->query(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'replica-a' "
        "AND l.relation = 'leases'::regclass AND l.mode = 'RowShareLock' AND l.granted");
    ASSERT_TRUE(r) << r.status().message();
    locked = r->int64(0, 0) > 0;
    if (!locked) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_TRUE(locked);

  std::optional<Lease> taken;
  for (int i = 0; i < 30 && !taken; ++i) {
    auto lease = s.acquire(7, "replica-b", std::chrono::seconds(30));
    if (lease && *lease) taken = **lease;
  }
  ASSERT_TRUE(taken) << "the stalled pipeline held the lease row for good";
  EXPECT_EQ(taken->epoch, 2);
  bool ended = false;
  for (int i = 0; i < 200 && !ended; ++i) {  // the FATAL message and the close arrive soon after
    ended = PQconsumeInput(stalled) == 0 || PQstatus(stalled) != CONNECTION_OK;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_TRUE(ended) << "the old owner's session was ended";
  PQfinish(stalled);
  // The store's own write sessions (also replica-a's) were ended too. A commit on a lane whose end
  // it has not noticed yet fails (503, nothing written); the lane then reconnects.
  bool recovered = false;
  for (int i = 0; i < 20 && !recovered; ++i) recovered = commit_fenced("y" + std::to_string(i), 2, false).get().is_ok();
  EXPECT_TRUE(recovered) << "the store did not reconnect its write sessions";
}

}  // namespace
}  // namespace pahlawan::testing

// The outbox's seq must be commit order even when transactions overlap (a PostgreSQL sequence is
// not: its value is taken at insert and becomes visible at commit, so a relay reading "seq > cursor"
// would skip an event whose transaction commits late). These tests drive two transactions by hand
// with the very statements the store prepares, and check what a relay reading between them sees.
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_statements.h"
#include "adapters/postgres/pg_store.h"
#include "pg_test_db.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

class OutboxOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(db_.url().empty());
    PostgresStoreOptions o;
    o.url = db_.url();
    o.poll_interval = std::chrono::minutes(10);  // only a NOTIFY can wake the listener in these tests
    auto s = PostgresStore::open(o, nullptr);
    ASSERT_TRUE(s) << s.status().message();
    store_ = std::move(*s);
    a_ = connect();
    b_ = connect();
  }

  std::unique_ptr<PgConn> connect() {
    auto c = PgConn::connect(db_.url(), pg_statements::writes());
    EXPECT_TRUE(c) << c.status().message();
    return c ? std::move(*c) : nullptr;
  }

  // The statements a commit of one event ends with (see PostgresStore::apply_batch).
  static std::vector<PgCommand> event(const std::string& id) {
    Event e;
    e.id = id;
    e.type = "surplus.posted";
    e.surplus_id = "item-" + id;
    e.occurred_at = from_unix_ms(1'795'000'000'000);
    e.data_json = "{}";
    std::vector<PgCommand> out;
    pg_statements::event_commands({&e}, out);
    return out;
  }

  std::vector<std::string> ids_after(int64_t seq, int64_t* last = nullptr) {
    auto events = store_->read_outbox(seq, 100);
    EXPECT_TRUE(events) << events.status().message();
    std::vector<std::string> out;
    for (const auto& e : *events) {
      out.push_back(e.id);
      if (last) *last = e.seq;
    }
    return out;
  }

  PgTestDb db_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  int woken_ = 0;
  std::unique_ptr<PostgresStore> store_;
  std::unique_ptr<PgConn> a_, b_;
};

TEST_F(OutboxOrder, ATransactionThatCommitsLateIsNotSkipped) {
  // A begins first and writes first; B begins later and commits first.
  ASSERT_TRUE(a_->exec("BEGIN"));
  ASSERT_TRUE(a_->exec("INSERT INTO meta VALUES ('a', 'written first')"));
  ASSERT_TRUE(b_->exec("BEGIN"));
  ASSERT_TRUE(b_->pipeline(event("e-b")));
  ASSERT_TRUE(b_->exec("COMMIT"));

  int64_t cursor = 0;
  EXPECT_EQ(ids_after(cursor, &cursor), std::vector<std::string>{"e-b"});  // A is still open

  ASSERT_TRUE(a_->pipeline(event("e-a")));
  ASSERT_TRUE(a_->exec("COMMIT"));
  EXPECT_EQ(ids_after(cursor), std::vector<std::string>{"e-a"}) << "the relay's cursor is past A's event";
}

TEST_F(OutboxOrder, OnceATransactionHasNumberedItsEventsTheNextWaitsForItsCommit) {
  ASSERT_TRUE(a_->exec("BEGIN"));
  ASSERT_TRUE(a_->pipeline(event("e-a")));  // A holds the counter until it commits
  ASSERT_TRUE(b_->exec("BEGIN"));
  // B's numbering waits on A's lock: sent, not awaited.
  auto b_events = event("e-b");
  auto params = b_events[0].params.pointers();
  ASSERT_EQ(PQsendQueryPrepared(b_->raw(), "reserve_seq", 1, params.data(), nullptr, nullptr, 0), 1);

  auto observer = connect();
  ASSERT_TRUE(observer);
  const std::string b_pid = std::to_string(PQbackendPID(b_->raw()));
  bool waiting = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !waiting && std::chrono::steady_clock::now() < until;) {
    auto r = observer->query("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = " + b_pid);
    ASSERT_TRUE(r);
    waiting = r->rows() == 1 && r->boolean(0, 0);
  }
  ASSERT_TRUE(waiting) << "B's reservation did not wait for A";
  EXPECT_TRUE(ids_after(0).empty());

  ASSERT_TRUE(a_->exec("COMMIT"));
  PGresult* reserved = PQgetResult(b_->raw());  // B goes on once A committed
  ASSERT_EQ(PQresultStatus(reserved), PGRES_TUPLES_OK) << PQresultErrorMessage(reserved);
  PQclear(reserved);
  while (PGresult* rest = PQgetResult(b_->raw())) PQclear(rest);
  ASSERT_TRUE(b_->pipeline({b_events.begin() + 1, b_events.end()}));
  ASSERT_TRUE(b_->exec("COMMIT"));

  auto events = store_->read_outbox(0, 10);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].id, "e-a");
  EXPECT_EQ((*events)[1].id, "e-b");
  EXPECT_LT((*events)[0].seq, (*events)[1].seq);
}

TEST_F(OutboxOrder, ACommitByAnotherProcessWakesTheListener) {
  // Outlive the store's listener thread: members, declared before store_.
  auto& mu = wake_mu_;
  auto& cv = wake_cv_;
  auto& woken = woken_;
  store_->on_events_committed([&] {
    std::lock_guard lock(mu);
    ++woken;
    cv.notify_all();
  });
  // Another process's commit: a separate connection, not the store's committer.
  ASSERT_TRUE(a_->exec("BEGIN"));
  ASSERT_TRUE(a_->pipeline(event("e-elsewhere")));
  ASSERT_TRUE(a_->exec("COMMIT"));
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(20), [&] { return woken > 0; }))
      << "no wake-up within 20 s, though the fallback poll is 10 minutes away";
}

}  // namespace
}  // namespace pahlawan::testing

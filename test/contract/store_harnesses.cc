// The Store implementations the contract suite runs against, and how each is opened, reopened and
// paused mid-commit. InMemoryStore pauses by holding its queue; SqliteStore and PostgresStore by the
// fault point `store.before_commit` armed to pause (their transaction open, not yet committed).
// PostgresStore runs against the server scripts/test.sh starts, on a fresh database per test.
#include <filesystem>

#include "adapters/postgres/pg_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "common/fault.h"
#include "in_memory_store.h"
#include "pg_test_db.h"
#include "store_harness.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

class InMemoryHarness final : public StoreHarness {
 public:
  InMemoryHarness() : store_(std::make_unique<InMemoryStore>()) {}
  Store& store() override { return *store_; }
  LeaseStore& leases() override { return *store_; }
  void reopen() override { store_ = store_->reopened(); }
  void open_with_queue_limit(size_t n) override {
    store_ = std::make_unique<InMemoryStore>();
    store_->set_max_queue(n);
  }
  void pause_next_commit() override { store_->hold(true); }
  void wait_paused() override {}  // a held unit is queued before commit() returns
  void resume() override {
    store_->hold(false);
    store_->release();
  }

 private:
  std::unique_ptr<InMemoryStore> store_;
};

// Pauses the next commit through the fault point, as every durable store does.
class FaultPausedHarness : public StoreHarness {
 public:
  void pause_next_commit() override {
    fault::arm({.point = "store.before_commit", .action = fault::Action::kPause, .times = 1});
  }
  void wait_paused() override { ASSERT_TRUE(fault::wait_hits("store.before_commit", 1, 30000)); }
  void resume() override {
    fault::resume("store.before_commit");
    fault::disarm_all();
  }
};

class SqliteHarness final : public FaultPausedHarness {
 public:
  SqliteHarness() {
    char tmpl[] = "/tmp/pahlawan-contract-XXXXXX";
    dir_ = mkdtemp(tmpl);
    open(dir_ + "/store.db", SqliteStoreOptions{}.max_queue);
  }
  ~SqliteHarness() override {
    store_.reset();
    fault::disarm_all();
    std::filesystem::remove_all(dir_);
  }
  Store& store() override { return *store_; }
  LeaseStore& leases() override { return *store_; }
  void reopen() override {
    store_.reset();  // flushes the queue, then closes
    open(path_, max_queue_);
  }
  void open_with_queue_limit(size_t n) override {
    store_.reset();
    open(dir_ + "/limited.db", n);
  }

 private:
  void open(const std::string& path, size_t max_queue) {
    path_ = path;
    max_queue_ = max_queue;
    SqliteStoreOptions o;
    o.path = path;
    o.max_queue = max_queue;
    auto s = SqliteStore::open(o, nullptr);
    ASSERT_TRUE(s) << s.status().message();
    store_ = std::move(*s);
  }
  std::string dir_, path_;
  size_t max_queue_ = 0;
  std::unique_ptr<SqliteStore> store_;
};

class PostgresHarness final : public FaultPausedHarness {
 public:
  PostgresHarness() { open(SIZE_MAX); }
  ~PostgresHarness() override {
    store_.reset();
    fault::disarm_all();
  }
  Store& store() override { return *store_; }
  LeaseStore& leases() override { return *store_; }
  void reopen() override {
    store_.reset();
    open(max_queue_);
  }
  void open_with_queue_limit(size_t n) override {
    store_.reset();
    open(n);
  }

 private:
  void open(size_t max_queue) {
    if (db_.url().empty()) return;
    max_queue_ = max_queue;
    PostgresStoreOptions o;
    o.url = db_.url();
    o.max_queue = max_queue == SIZE_MAX ? PostgresStoreOptions{}.max_queue : max_queue;
    auto s = PostgresStore::open(o, nullptr);
    ASSERT_TRUE(s) << s.status().message();
    store_ = std::move(*s);
  }
  PgTestDb db_;
  size_t max_queue_ = SIZE_MAX;
  std::unique_ptr<PostgresStore> store_;
};

}  // namespace

std::vector<StoreImplementation> store_implementations() {
  return {
      {"InMemory", [] { return std::make_unique<InMemoryHarness>(); }},
      {"Sqlite", [] { return std::make_unique<SqliteHarness>(); }},
      {"Postgres", [] { return std::make_unique<PostgresHarness>(); }},
  };
}

}  // namespace pahlawan::testing

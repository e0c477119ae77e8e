// Old data to cheap storage: a partition past retention is detached by pg_partman, archived to a
// compressed CSV file, queried through its file_fdw foreign table, and restored; a directory that
// could smuggle a shell command is refused and changes nothing.
#include <unistd.h>

#include <filesystem>
#include <future>

#include "adapters/postgres/pg_archive.h"
#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_store.h"
#include "pg_test_db.h"
#include "store_samples.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

using std::chrono::hours;

class Archive : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = PgConn::connect(db_.url());
    ASSERT_TRUE(conn) << conn.status().message();
    conn_ = std::move(*conn);
    dir_ = "/tmp/pp-archive-test-" + std::to_string(getpid());
  }
  void TearDown() override {
    // The files belong to the database server's user: it removes them.
    if (conn_) (void)conn_->exec("COPY (SELECT 1) TO PROGRAM 'rm -rf " + dir_ + "'");
  }

  // Three items posted 40 days ago, into the partition of that day (made as partman made it then),
  // and one posted now; then the maintenance that applies the 30-day retention.
  std::string detach_an_old_partition() {
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const TimePoint old = now - hours(24 * 40);
    PostgresStoreOptions o;
    o.url = db_.url();
    auto store = PostgresStore::open(o, nullptr);
    EXPECT_TRUE(store) << store.status().message();
    if (!store) return "";
    // After the store's own maintenance at open, which would detach it at once.
    PgParams day;
    day.add(to_unix_ms(old));
    auto made = conn_->query("SELECT partman.create_partition_time('public.surplus', ARRAY[pp_ts($1)])", day);
    EXPECT_TRUE(made) << made.status().message();
    UnitOfWork u;
    for (const char* id : {"old-0", "old-1", "old-2", "new"}) {
      Surplus s = sample_surplus(id);
      s.created_at = std::string(id) == "new" ? now : old;
      s.expires_at = s.created_at + hours(2);
      u.inserts.push_back(s);
    }
    std::promise<Status> done;
    (*store)->commit(std::move(u), [&](Status s) { done.set_value(s); });
    EXPECT_TRUE(done.get_future().get());
    (*store)->flush_and_stop();
    EXPECT_TRUE(conn_->exec("SELECT partman.run_maintenance('public.surplus', p_analyze := false)"));
    auto detached = names_in("pp_detached");
    EXPECT_EQ(detached.size(), 1u) << "retention detaches the 40-day-old partition";
    return detached.empty() ? "" : detached[0];
  }

  std::vector<std::string> names_in(const std::string& schema) {
    PgParams p;
    p.add(schema);
    auto r = conn_->query(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'f') ORDER BY 1",
        p);
    EXPECT_TRUE(r) << r.status().message();
    std::vector<std::string> out;
    for (int i = 0; r && i < r->rows(); ++i) out.push_back(r->text(i, 0));
    return out;
  }

  std::vector<std::string> column(const std::string& sql) {
    auto r = conn_->query(sql);
    EXPECT_TRUE(r) << sql << ": " << r.status().message();
    std::vector<std::string> out;
    for (int i = 0; r && i < r->rows(); ++i) out.push_back(r->text(i, 0));
    return out;
  }

  PgTestDb db_;
  std::unique_ptr<PgConn> conn_;
  std::string dir_;
};

TEST_F(Archive, APartitionPastRetentionIsArchivedQueriedThroughFileFdwAndRestored) {
  const std::string table = detach_an_old_partition();
  ASSERT_EQ(table.rfind("surplus_p", 0), 0u) << table;

  auto archived = pg_archive_detached(*conn_, dir_);
  ASSERT_TRUE(archived) << archived.status().message();
  ASSERT_EQ(archived->size(), 1u);
  EXPECT_EQ((*archived)[0].table, table);
  EXPECT_EQ((*archived)[0].rows, 3);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir_ + "/" + table + ".csv.gz"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/" + table + ".csv.gz.tmp"));
  EXPECT_TRUE(names_in("pp_detached").empty()) << "the table is gone from the database";

  // Still queryable, through the foreign table that reads the file.
  EXPECT_EQ(column("SELECT id FROM pp_archive." + table + " ORDER BY id"),
            (std::vector<std::string>{"old-0", "old-1", "old-2"}));
  EXPECT_EQ(column("SELECT title FROM pp_archive." + table + " WHERE id = 'old-1'"),
            (std::vector<std::string>{sample_surplus("old-1").title}));
  EXPECT_EQ(column("SELECT id FROM surplus ORDER BY id"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(column("SELECT id FROM surplus_keys ORDER BY id"), (std::vector<std::string>{"new"}))
      << "archived ids leave the live key table";
  auto listed = pg_archived_partitions(*conn_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].rows, 3);

  auto restored = pg_restore_partition(*conn_, table);
  ASSERT_TRUE(restored) << restored.status().message();
  EXPECT_EQ(*restored, 3);
  EXPECT_EQ(column("SELECT id FROM pp_restored." + table + " WHERE geog IS NOT NULL ORDER BY id"),
            (std::vector<std::string>{"old-0", "old-1", "old-2"}))
      << "rows back, with their generated geography";
  EXPECT_TRUE(names_in("pp_archive").size() == 1u) << "only the catalog table is left";
  EXPECT_TRUE(pg_archived_partitions(*conn_)->empty());
  EXPECT_FALSE(pg_restore_partition(*conn_, table)) << "restored once";
}

TEST_F(Archive, ADirectoryThatIsNotAPlainPathIsRefusedAndChangesNothing) {
  const std::string table = detach_an_old_partition();
  ASSERT_FALSE(table.empty());
  for (const std::string& dir : {dir_ + "; touch /tmp/pp-pwned", std::string("relative/dir"), dir_ + " x"}) {
    auto archived = pg_archive_detached(*conn_, dir);
    ASSERT_FALSE(archived) << dir;
    EXPECT_NE(archived.status().message().find("absolute path"), std::string::npos) << archived.status().message();
  }
  EXPECT_EQ(names_in("pp_detached"), (std::vector<std::string>{table}));
  EXPECT_TRUE(pg_archived_partitions(*conn_)->empty());
  EXPECT_FALSE(std::filesystem::exists("/tmp/pp-pwned"));
}

}  // namespace
}  // namespace pahlawan::testing

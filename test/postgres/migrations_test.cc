// Migrations: a new database gets every one, once, recorded; a second run applies nothing; a store
// refuses a database its binary is ahead of, and says what to run.
#include <unistd.h>

#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_migrations.h"
#include "adapters/postgres/pg_store.h"
#include "pg_test_db.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {
namespace {

class Migrations : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(template_db_.url().empty());
    auto admin = PgConn::connect(template_db_.url_of("postgres"));
    ASSERT_TRUE(admin);
    name_ = "pp_migrations_" + std::to_string(getpid());
    ASSERT_TRUE((*admin)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"));
    ASSERT_TRUE((*admin)->exec("CREATE DATABASE " + name_));  // empty: not from the template
    url_ = template_db_.url_of(name_);
  }
  void TearDown() override {
    if (auto admin = PgConn::connect(template_db_.url_of("postgres")))
      (void)(*admin)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }
  PgTestDb template_db_;  // only for the server's address
  std::string name_, url_;
};

TEST_F(Migrations, AnEmptyDatabaseIsRefusedUntilMigratedThenMigratesOnce) {
  PostgresStoreOptions o;
  o.url = url_;
  auto refused = PostgresStore::open(o, nullptr);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.status().message().find("pahlawan migrate"), std::string::npos) << refused.status().message();

  auto conn = PgConn::connect(url_);
  ASSERT_TRUE(conn);
  auto applied = pg_migrate(**conn);
  ASSERT_TRUE(applied) << applied.status().message();
  std::vector<int> all;
  for (const auto& m : pg_migrations()) all.push_back(m.version);
  EXPECT_EQ(*applied, all);
  auto again = pg_migrate(**conn);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());

  auto recorded = (*conn)->query("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(recorded);
  EXPECT_EQ(recorded->int64(0, 0), static_cast<int64_t>(all.size()));
  // pg_partman made the daily partitions, a default one among them.
  auto parts = (*conn)->query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.surplus'::regclass");
  ASSERT_TRUE(parts);
  EXPECT_GE(parts->int64(0, 0), 5);
  EXPECT_TRUE(PostgresStore::open(o, nullptr));
}

}  // namespace
}  // namespace pahlawan::testing

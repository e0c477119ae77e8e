#include "pg_test_db.h"

#include <unistd.h>
#include <atomic>
#include <cstdlib>

#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_migrations.h"

#include <gtest/gtest.h>

namespace pahlawan::testing {

namespace {
constexpr const char* kTemplate = "pp_test_template";
}

PgTestDb::PgTestDb() {
  if (!connect_server()) return;
  static std::atomic<int> counter{0};
  name_ = "pp_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  create(false);
}

PgTestDb::PgTestDb(std::string name, bool drop) : name_(std::move(name)), drop_(drop) {
  if (connect_server()) create(true);
}

bool PgTestDb::connect_server() {
  const char* server = std::getenv("PAHLAWAN_TEST_POSTGRES");
  if (!server || !*server) {
    ADD_FAILURE() << "PAHLAWAN_TEST_POSTGRES is not set: run the tests through scripts/test.sh, which starts "
                     "PostgreSQL (or: source scripts/services.sh && start_postgres)";
    return false;
  }
  server_ = server;
  return true;
}

PgTestDb::~PgTestDb() {
  if (url_.empty() || !drop_) return;
  auto conn = PgConn::connect(server_);
  if (conn) (void)(*conn)->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
}

std::string PgTestDb::url_of(const std::string& db) const {
  return server_.substr(0, server_.rfind('/') + 1) + db;  // the server URL names the `postgres` database
}

void PgTestDb::create(bool reuse) {
  auto conn = PgConn::connect(server_);
  ASSERT_TRUE(conn) << conn.status().message();
  PgConn& c = **conn;
  ASSERT_TRUE(c.exec("SELECT pg_advisory_lock(7461002)"));
  auto exists = c.query(std::string("SELECT 1 FROM pg_database WHERE datname = '") + kTemplate + "'");
  ASSERT_TRUE(exists);
  bool current = false;
  if (exists->rows() > 0) {
    auto t = PgConn::connect(url_of(kTemplate));
    ASSERT_TRUE(t) << t.status().message();
    auto v = pg_schema_version(**t);
    current = v && *v == pg_migrations().back().version;
  }
  if (!current) {
    ASSERT_TRUE(c.exec(std::string("DROP DATABASE IF EXISTS ") + kTemplate + " WITH (FORCE)"));
    ASSERT_TRUE(c.exec(std::string("CREATE DATABASE ") + kTemplate));
    auto t = PgConn::connect(url_of(kTemplate));
    ASSERT_TRUE(t) << t.status().message();
    auto applied = pg_migrate(**t);
    ASSERT_TRUE(applied) << applied.status().message();
  }
  auto present = c.query("SELECT 1 FROM pg_database WHERE datname = '" + name_ + "'");
  ASSERT_TRUE(present);
  Status made =
      reuse && present->rows() > 0 ? Status::ok() : c.exec("CREATE DATABASE " + name_ + " TEMPLATE " + kTemplate);
  ASSERT_TRUE(c.exec("SELECT pg_advisory_unlock(7461002)"));
  ASSERT_TRUE(made) << made.message();
  url_ = url_of(name_);
}

}  // namespace pahlawan::testing

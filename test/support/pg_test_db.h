// PgTestDb: a fresh, migrated database on the PostgreSQL server the test scripts start
// (PAHLAWAN_TEST_POSTGRES), dropped when the object goes. Copying a migrated template takes well
// under a second where migrating (PostGIS) takes seconds: the template is shared by every test
// process of a run, under an advisory lock, and made again when it lags behind the migrations.
// No server is a test failure, not a skip: a suite that claims PostgreSQL must run against it.
#pragma once

#include <string>

namespace pahlawan::testing {

class PgTestDb {
 public:
  PgTestDb();
  ~PgTestDb();
  PgTestDb(const PgTestDb&) = delete;
  PgTestDb& operator=(const PgTestDb&) = delete;

  // The database's URL; empty if it could not be made (the failure is already reported).
  const std::string& url() const { return url_; }
  // The server's URL with another database name.
  std::string url_of(const std::string& db) const;

 private:
  void create();
  std::string server_, name_, url_;
};

}  // namespace pahlawan::testing

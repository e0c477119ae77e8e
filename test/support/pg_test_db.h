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
  // A database of this name: made if missing, reused if present (a server restarted on the same data
  // directory finds its data); dropped at the end only if `drop` is set.
  PgTestDb(std::string name, bool drop);
  ~PgTestDb();
  PgTestDb(const PgTestDb&) = delete;
  PgTestDb& operator=(const PgTestDb&) = delete;

  // The database's URL; empty if it could not be made (the failure is already reported).
  const std::string& url() const { return url_; }
  // The server's URL with another database name.
  std::string url_of(const std::string& db) const;

 private:
  bool connect_server();
  void create(bool reuse);
  std::string server_, name_, url_;
  bool drop_ = true;
};

}  // namespace pahlawan::testing

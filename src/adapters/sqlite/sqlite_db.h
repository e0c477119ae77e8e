// Thin RAII wrappers over the SQLite C API: a connection and prepared statements, nothing more.
// Errors become Status values (kUnavailable for I/O trouble, kConflict for constraint violations).
// A SqliteDb is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"

namespace pahlawan {

class SqliteStmt {
 public:
  SqliteStmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~SqliteStmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  SqliteStmt& bind(int i, const std::string& v);
  SqliteStmt& bind(int i, const std::optional<std::string>& v);
  SqliteStmt& bind(int i, int64_t v);
  SqliteStmt& bind(int i, std::optional<int64_t> v);
  SqliteStmt& bind(int i, double v);
  SqliteStmt& bind(int i, std::optional<double> v);

  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → Status.
  Result<bool> step();
  Status run();  // step to completion

  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path, bool read_only);
  ~SqliteDb();

  Status exec(const char* sql);
  // Prepared once per connection and reused; the returned statement is reset when it goes away.
  Result<std::unique_ptr<SqliteStmt>> prepare(const char* sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> cache_;  // keyed by the SQL literal's address
};

Status sqlite_status(sqlite3* db, int rc, const char* what);

}  // namespace pahlawan

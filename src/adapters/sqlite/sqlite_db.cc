#include "adapters/sqlite/sqlite_db.h"
#include "common/log.h"

#include <cstdio>

namespace pahlawan {

Status sqlite_status(sqlite3* db, int rc, const char* what) {
  // SQLite's own words ("database is locked", constraint and table names) go to the operator's log;
  // the Status, which may reach a client, carries the contract's message only.
  log_line(LogLevel::kError, "sqlite",
           {{"operation", what}, {"error", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)}, {"code", rc}});
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return {ErrorCode::kConflict, "the change conflicts with stored data"};
  return {ErrorCode::kUnavailable, "the store is unavailable; try again"};
}

SqliteStmt& SqliteStmt::bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, const std::optional<std::string>& v) {
  if (v) return bind(i, *v);
  sqlite3_bind_null(stmt_, i);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::optional<int64_t> v) {
  if (v) return bind(i, *v);
  sqlite3_bind_null(stmt_, i);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::optional<double> v) {
  if (v) return bind(i, *v);
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> SqliteStmt::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_status(db_, rc, "step");
}

Status SqliteStmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return r.status();
    if (!*r) return Status::ok();
  }
}

std::string SqliteStmt::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
}

std::optional<std::string> SqliteStmt::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = sqlite_status(db, rc, "open");
    sqlite3_close(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteDb::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  Status s = sqlite_status(db_, rc, err ? err : "exec");
  sqlite3_free(err);
  return s;
}

Result<std::unique_ptr<SqliteStmt>> SqliteDb::prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_status(db_, rc, "prepare");
    it = cache_.emplace(sql, stmt).first;
  }
  return std::make_unique<SqliteStmt>(db_, it->second);
}

}  // namespace pahlawan

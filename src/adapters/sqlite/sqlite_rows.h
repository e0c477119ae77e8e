// Row mapping of the SQLite store: how a Surplus and an outbox Event sit in their tables' columns, and
// the statement helpers the store's writes (sqlite_store.cc) and reads (sqlite_queries.cc) share.
// Internal to the adapter.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "adapters/sqlite/sqlite_db.h"
#include "common/word_list.h"
#include "domain/event.h"
#include "domain/surplus.h"

namespace pahlawan::sqlite_rows {

// The surplus table's columns, in the order read_surplus reads and bind_surplus binds them.
extern const char* const kSurplusColumns;

std::optional<TimePoint> opt_time(const SqliteStmt& s, int col);
Surplus read_surplus(const SqliteStmt& s);
Result<std::vector<Surplus>> read_all_surplus(SqliteStmt& st);
// Binds every column of kSurplusColumns, from parameter `first` on.
void bind_surplus(SqliteStmt& st, const Surplus& x, int first);
// One outbox row, selected as: seq, id, type, surplus_id, occurred_at, traceparent, data, recipient, region.
Event outbox_event(const SqliteStmt& st);
Result<bool> has_column(SqliteDb& db, const std::string& table, const std::string& column);

}  // namespace pahlawan::sqlite_rows

#define RETURN_IF_ERROR(expr)   \
  do {                          \
    Status _s = (expr);         \
    if (!_s.is_ok()) return _s; \
  } while (0)

#define ASSIGN_STMT(var, db, sql)        \
  auto var##_r = (db).prepare(sql);      \
  if (!var##_r) return var##_r.status(); \
  auto& var = **var##_r

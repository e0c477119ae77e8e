// Borrows one of the SQLite store's read connections for the length of one query. Internal to the
// adapter (sqlite_store.cc pools the connections, sqlite_queries.cc reads through them).
#pragma once

#include <memory>

#include "adapters/sqlite/sqlite_db.h"
#include "adapters/sqlite/sqlite_store.h"

namespace pahlawan {

class SqliteStore::ReaderLease {
 public:
  explicit ReaderLease(SqliteStore& store) : store_(store), db_(store.acquire_reader()) {}
  ~ReaderLease() {
    if (db_) store_.release_reader(std::move(db_));
  }
  SqliteDb* get() { return db_.get(); }

 private:
  SqliteStore& store_;
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace pahlawan

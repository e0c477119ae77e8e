// PgConn: one libpq connection, with the little the PostgreSQL store needs on top of libpq: results
// that free themselves, text parameters, SQLSTATE mapped to the store's error codes, and pipelines
// (many statements sent before their results are read: one round trip for a whole group commit).
// Internal to the adapter. Not thread-safe: one thread uses a connection at a time.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "common/status.h"

namespace pahlawan {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::optional<std::string> opt_text(int row, int col) const;
  int64_t int64(int row, int col) const;
  double real(int row, int col) const;
  bool boolean(int row, int col) const { return PQgetvalue(r_.get(), row, col)[0] == 't'; }
  PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

// Parameters in text form (libpq converts them server-side by the statement's types).
class PgParams {
 public:
  PgParams& add(std::string v) {
    values_.emplace_back(std::move(v));
    return *this;
  }
  PgParams& add(const char* v) { return add(std::string(v)); }
  PgParams& add(int64_t v) { return add(std::to_string(v)); }
  PgParams& add(int v) { return add(std::to_string(v)); }
  PgParams& add(double v);
  PgParams& add(bool v) { return add(std::string(v ? "t" : "f")); }
  PgParams& add_null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  template <typename T>
  PgParams& add(const std::optional<T>& v) {
    return v ? add(*v) : add_null();
  }
  // A text[] in PostgreSQL's array syntax: each element quoted (backslash before `"` and `\`), a
  // null element as NULL — how one statement takes a column of many rows.
  PgParams& add_text_array(const std::vector<const std::string*>& elements);
  // A bigint[] (or any integer array: the statement casts it), from any range of integers.
  template <typename Ints>
  PgParams& add_int_array(const Ints& values) {
    std::vector<std::string> text;
    for (auto v : values) text.push_back(std::to_string(static_cast<int64_t>(v)));
    std::vector<const std::string*> refs;
    for (const auto& t : text) refs.push_back(&t);
    return add_text_array(refs);
  }
  int size() const { return static_cast<int>(values_.size()); }
  // The i-th value, or nullptr for a null.
  const std::string* at(int i) const { return values_[i] ? &*values_[i] : nullptr; }
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

// A statement prepared on every connection of the store, by name.
struct PgStatement {
  const char* name;
  const char* sql;
};

// One statement of a pipeline: a prepared statement's name and its parameters.
struct PgCommand {
  const char* statement;
  PgParams params;
};

class PgConn {
 public:
  // `statements` are prepared at connect (and again after a reconnect), after `setup` (session
  // settings, e.g. "SET synchronous_commit = on") has run.
  static Result<std::unique_ptr<PgConn>> connect(const std::string& url, std::vector<PgStatement> statements = {},
                                                 std::string setup = "");
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Plain SQL, possibly several statements, no parameters (migrations, BEGIN, LISTEN).
  Status exec(const std::string& sql);
  // One statement with parameters, parsed each time (reads that run rarely).
  Result<PgResult> query(const std::string& sql, const PgParams& params = {});
  // A statement prepared at connect.
  Result<PgResult> run(const char* statement, const PgParams& params);
  // Sends every command in pipeline mode, `window` at a time (so neither side's socket buffer can
  // fill while the other waits), and reads every result. Stops at the first failure: its Status
  // (and the index of the failing command in `failed_at`); the commands after it were not run.
  Status pipeline(const std::vector<PgCommand>& commands, size_t* failed_at = nullptr, size_t window = 512);

  // True while the connection is usable; reconnect() tries once to restore it.
  bool healthy() const;
  // Reads whatever the server sent meanwhile (without waiting): a connection the server closed (a
  // restart, an administrator's kill) is then known to be broken before it is used, not by failing.
  bool check_alive();
  Status reconnect();
  int socket() const { return PQsocket(conn_); }
  PGconn* raw() { return conn_; }

 private:
  PgConn(PGconn* conn, std::vector<PgStatement> statements, std::string setup)
      : conn_(conn), statements_(std::move(statements)), setup_(std::move(setup)) {}
  Status prepare_all();
  Status status_of(PGresult* r) const;

  PGconn* conn_;
  std::vector<PgStatement> statements_;
  std::string setup_;
};

// The store's error for a failed statement: a unique or check violation, or our own 'PP409' (a
// version that moved on), is kConflict; a lost connection, a server shutting down or out of
// resources, a serialization failure or deadlock is kUnavailable (worth retrying); anything else is
// kInternal (a bug in a statement).
Status pg_status(const char* sqlstate, const std::string& message);

}  // namespace pahlawan

#include "adapters/postgres/pg_conn.h"

#include <poll.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace pahlawan {

std::optional<std::string> PgResult::opt_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

int64_t PgResult::int64(int row, int col) const {
  return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10);
}

double PgResult::real(int row, int col) const {
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

PgParams& PgParams::add(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back exactly
  return add(std::string(buf, end));
}

PgParams& PgParams::add_text_array(const std::vector<const std::string*>& elements) {
  std::string out = "{";
  for (const std::string* e : elements) {
    if (out.size() > 1) out += ',';
    if (!e) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *e) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return add(std::move(out));
}

std::vector<const char*> PgParams::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

Status pg_status(const char* sqlstate, const std::string& message) {
  const std::string_view code = sqlstate ? sqlstate : "";
  if (code == "PP409") return {ErrorCode::kConflict, message};
  // The database's own wording names constraints and tables: not for a client's ears.
  if (code.substr(0, 2) == "23") return {ErrorCode::kConflict, "the change conflicts with stored data"};
  if (code.empty() || code.substr(0, 2) == "08" || code.substr(0, 3) == "57P" || code.substr(0, 2) == "53" ||
      code == "40001" || code == "40P01") {
    return {ErrorCode::kUnavailable, message.empty() ? "the database is unreachable" : message};
  }
  return {ErrorCode::kInternal, message};
}

Result<std::unique_ptr<PgConn>> PgConn::connect(const std::string& url, std::vector<PgStatement> statements,
                                                std::string setup) {
  // A database host that does not answer (not one that refuses) must not hold a thread for the TCP
  // timeout: 5 s unless the URL sets connect_timeout (its settings override those listed before it).
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {"5", url.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return Status(ErrorCode::kUnavailable, "cannot connect to PostgreSQL: " + why);
  }
  std::unique_ptr<PgConn> conn(new PgConn(c, std::move(statements), std::move(setup)));
  // Quiet: NOTICEs (e.g. "relation already exists, skipping") are not errors worth a log line each.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  if (Status s = conn->prepare_all(); !s) return s;
  return conn;
}

PgConn::~PgConn() {
  PQfinish(conn_);
}

bool PgConn::healthy() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

bool PgConn::check_alive() {
  // A server ending the connection sends a FATAL message, then closes: one read takes the message,
  // the next finds the end of the stream. Read while the socket has something, a few times at most.
  for (int i = 0; i < 4 && PQstatus(conn_) == CONNECTION_OK; ++i) {
    pollfd pfd{PQsocket(conn_), POLLIN, 0};
    if (::poll(&pfd, 1, 0) <= 0) break;
    if (PQconsumeInput(conn_) == 0) return false;
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  }
  return PQstatus(conn_) == CONNECTION_OK;
}

Status PgConn::reconnect() {
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) return {ErrorCode::kUnavailable, "cannot reconnect to PostgreSQL"};
  return prepare_all();
}

Status PgConn::prepare_all() {
  if (!setup_.empty()) {
    if (Status s = exec(setup_); !s) return s;
  }
  for (const auto& st : statements_) {
    PgResult r(PQprepare(conn_, st.name, st.sql, 0, nullptr));
    if (Status s = status_of(r.raw()); !s) {
      return Status(s.code(), std::string("preparing ") + st.name + ": " + s.message());
    }
  }
  return Status::ok();
}

Status PgConn::status_of(PGresult* r) const {
  if (!r) return pg_status(nullptr, PQerrorMessage(conn_));
  switch (PQresultStatus(r)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_PIPELINE_SYNC: return Status::ok();
    case PGRES_PIPELINE_ABORTED: return {ErrorCode::kUnavailable, "an earlier statement of the pipeline failed"};
    default: {
      const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      return pg_status(PQresultErrorField(r, PG_DIAG_SQLSTATE), primary ? primary : PQresultErrorMessage(r));
    }
  }
}

Status PgConn::exec(const std::string& sql) {
  PgResult r(PQexec(conn_, sql.c_str()));
  return status_of(r.raw());
}

Result<PgResult> PgConn::query(const std::string& sql, const PgParams& params) {
  auto ptrs = params.pointers();
  PgResult r(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, ptrs.data(), nullptr, nullptr, 0));
  if (Status s = status_of(r.raw()); !s) return s;
  return r;
}

Result<PgResult> PgConn::run(const char* statement, const PgParams& params) {
  auto ptrs = params.pointers();
  PgResult r(PQexecPrepared(conn_, statement, params.size(), ptrs.data(), nullptr, nullptr, 0));
  if (Status s = status_of(r.raw()); !s) return s;
  return r;
}

Status PgConn::pipeline(const std::vector<PgCommand>& commands, size_t* failed_at, size_t window) {
  if (commands.empty()) return Status::ok();
  if (PQenterPipelineMode(conn_) != 1) return pg_status(nullptr, PQerrorMessage(conn_));
  Status result = Status::ok();
  size_t sent = 0, read = 0;
  while (result.is_ok() && read < commands.size()) {
    // Send up to `window` statements, ask the server to flush their results, then read them all.
    const size_t end = std::min(commands.size(), read + window);
    for (; sent < end; ++sent) {
      const auto& c = commands[sent];
      auto ptrs = c.params.pointers();
      if (PQsendQueryPrepared(conn_, c.statement, c.params.size(), ptrs.data(), nullptr, nullptr, 0) != 1) {
        result = pg_status(nullptr, PQerrorMessage(conn_));
        break;
      }
    }
    if (result.is_ok() && (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0)) {
      result = pg_status(nullptr, PQerrorMessage(conn_));
    }
    for (; result.is_ok() && read < sent; ++read) {
      PGresult* r = PQgetResult(conn_);
      result = status_of(r);
      PQclear(r);
      if (!result.is_ok()) {
        if (failed_at) *failed_at = read;
        break;
      }
      PQclear(PQgetResult(conn_));  // the NULL that ends each statement's results
    }
  }
  // A Sync ends the pipeline: after a failure the server skipped everything up to it (libpq
  // reports those statements as aborted); read up to the Sync's own result, then leave the mode.
  if (PQpipelineSync(conn_) == 1) {
    for (size_t nulls = 0; PQstatus(conn_) == CONNECTION_OK;) {
      PGresult* r = PQgetResult(conn_);
      if (!r) {
        if (++nulls > commands.size() + 2) break;
        continue;
      }
      const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
      PQclear(r);
      if (sync) break;
    }
  }
  if (PQexitPipelineMode(conn_) != 1 && result.is_ok()) result = pg_status(nullptr, PQerrorMessage(conn_));
  return result;
}

}  // namespace pahlawan

#include "adapters/postgres/pg_archive.h"

#include "adapters/postgres/pg_conn.h"

namespace pahlawan {

Result<std::vector<ArchivedPartition>> pg_archive_detached(PgConn& conn, const std::string& dir) {
  // partman names daily partitions <parent>_pYYYY_MM_DD, so the name orders them by day.
  auto detached = conn.query(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'pp_detached' AND c.relkind = 'r' ORDER BY substring(c.relname from '_p(.*)$'), c.relname");
  if (!detached) return detached.status();
  std::vector<ArchivedPartition> out;
  for (int i = 0; i < detached->rows(); ++i) {
    PgParams p;
    p.add(detached->text(i, 0)).add(dir);
    auto rows = conn.query("SELECT pp_archive_partition($1, $2)", p);
    if (!rows) return rows.status();
    out.push_back({detached->text(i, 0), rows->int64(0, 0)});
  }
  return out;
}

Result<int64_t> pg_restore_partition(PgConn& conn, const std::string& table) {
  PgParams p;
  p.add(table);
  auto rows = conn.query("SELECT pp_restore_partition($1)", p);
  if (!rows) return rows.status();
  return rows->int64(0, 0);
}

Result<std::vector<ArchivedPartition>> pg_archived_partitions(PgConn& conn) {
  auto r = conn.query("SELECT table_name, row_count FROM pp_archive.files ORDER BY archived_at, table_name");
  if (!r) return r.status();
  std::vector<ArchivedPartition> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->text(i, 0), r->int64(i, 1)});
  return out;
}

}  // namespace pahlawan

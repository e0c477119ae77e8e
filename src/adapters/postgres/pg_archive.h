// Old partitions to cheap storage: the partitions retention detached (schema pp_detached) written to
// compressed CSV files in an archive directory, queryable afterwards through file_fdw foreign tables
// in pp_archive, and one restored on demand into pp_restored. The work is done by the database
// functions of migration 4 (pg_migrations.cc); these are the calls the server and `pahlawan archive`
// make.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace pahlawan {

class PgConn;

struct ArchivedPartition {
  std::string table;
  int64_t rows = 0;
};

// Archives every detached partition, oldest first, each in its own transaction; stops at the first
// failure (what was archived before it stays archived). `dir` is a path on the database server.
Result<std::vector<ArchivedPartition>> pg_archive_detached(PgConn& conn, const std::string& dir);

// Loads an archived partition back into pp_restored.<table>; returns its row count.
Result<int64_t> pg_restore_partition(PgConn& conn, const std::string& table);

// The partitions archived so far.
Result<std::vector<ArchivedPartition>> pg_archived_partitions(PgConn& conn);

}  // namespace pahlawan

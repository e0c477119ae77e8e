// The PostgreSQL store's schema, as numbered migrations kept in the repository and applied in order
// by `pahlawan migrate` (or at start with --migrate). A migration is never edited once released:
// a change is a new one.
#pragma once

#include <vector>

#include "adapters/postgres/pg_conn.h"

namespace pahlawan {

struct PgMigration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<PgMigration>& pg_migrations();

// Applies every migration the database lacks, each in its own transaction, recording it in
// schema_migrations. Holds an advisory lock meanwhile, so replicas starting together apply each
// migration once. Returns the versions it applied (none: the schema was current).
Result<std::vector<int>> pg_migrate(PgConn& conn);
// The newest version applied (0: none); the store refuses to open a database behind the binary.
Result<int> pg_schema_version(PgConn& conn);

}  // namespace pahlawan

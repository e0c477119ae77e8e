// The statements the PostgreSQL store prepares on its connections, by name: those of the write
// connection (pg_store.cc) and those of the read connections (pg_queries.cc).
#pragma once

#include <vector>

#include "adapters/postgres/pg_conn.h"

namespace pahlawan::pg_statements {

const std::vector<PgStatement>& writes();
const std::vector<PgStatement>& reads();

}  // namespace pahlawan::pg_statements

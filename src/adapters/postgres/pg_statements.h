// The statements the PostgreSQL store prepares on its connections, by name: those of the write
// connection (pg_store.cc) and those of the read connections (pg_queries.cc).
#pragma once

#include <vector>

#include "adapters/postgres/pg_conn.h"
#include "domain/event.h"

namespace pahlawan::pg_statements {

const std::vector<PgStatement>& writes();
const std::vector<PgStatement>& reads();

// The statements that end a transaction with events, numbered in the order given: one reservation
// of their seq block (the counter row's lock, held to commit: see pg_store.h), the inserts, a NOTIFY.
void event_commands(const std::vector<const Event*>& events, std::vector<PgCommand>& out);

}  // namespace pahlawan::pg_statements

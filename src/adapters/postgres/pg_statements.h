// The statements the PostgreSQL store prepares on its connections, by name: those of the write
// connection (pg_store.cc) and those of the read connections (pg_queries.cc).
#pragma once

#include <vector>

#include "adapters/postgres/pg_conn.h"
#include "domain/event.h"
#include "ports/store.h"

namespace pahlawan::pg_statements {

const std::vector<PgStatement>& writes();
const std::vector<PgStatement>& reads();

// The statements that write `inserts` and `updates` (in that order), many rows per statement: all
// inserts in one; updates in runs in which no item appears twice, so that two changes of one item
// (each expecting the version the one before left) apply in the order given.
void surplus_commands(const std::vector<const Surplus*>& inserts, const std::vector<const SurplusUpdate*>& updates,
                      std::vector<PgCommand>& out);

// The statements that end a transaction with events, numbered in the order given: one reservation
// of their seq block (the counter row's lock, held to commit: see pg_store.h), the inserts, a NOTIFY.
void event_commands(const std::vector<const Event*>& events, std::vector<PgCommand>& out);

}  // namespace pahlawan::pg_statements

// Row mapping of the PostgreSQL store: how a Surplus and an outbox Event sit in their tables'
// columns, shared by the writes (pg_store.cc) and the reads (pg_queries.cc). Internal to the adapter.
#pragma once

#include <vector>

#include "adapters/postgres/pg_conn.h"
#include "domain/event.h"
#include "domain/surplus.h"

namespace pahlawan::pg_rows {

// Rows selected as pg_statements selects them (SURPLUS_SELECT, OUTBOX_SELECT: times as Unix ms).
Surplus read_surplus(const PgResult& r, int row);
std::vector<Surplus> read_all_surplus(const PgResult& r);
Event outbox_event(const PgResult& r, int row);
std::vector<Event> read_all_events(const PgResult& r);

// Parameters $1..$24 of the insert and update statements: every column, then geo_region_id.
PgParams surplus_params(const Surplus& x);

}  // namespace pahlawan::pg_rows

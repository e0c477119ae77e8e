#include "adapters/sqlite/sqlite_rows.h"

#include "common/word_list.h"

namespace pahlawan::sqlite_rows {
const char* const kSurplusColumns =
    "id, provider_id, title, category, quantity_kg, lat, lon, cell, status, version, created_at, expires_at, "
    "offer_ngo_id, offer_deadline, offer_attempt, dead_lettered, claimed_by, claimed_at, picked_up_at, "
    "offered_to, dlq_reason, dlq_at, waiting_since";

std::optional<TimePoint> opt_time(const SqliteStmt& s, int col) {
  return s.is_null(col) ? std::nullopt : std::optional<TimePoint>(from_unix_ms(s.int64(col)));
}

Surplus read_surplus(const SqliteStmt& s) {
  Surplus x;
  x.id = s.text(0);
  x.provider_id = s.text(1);
  x.title = s.text(2);
  x.category = s.text(3);
  x.quantity_kg = s.real(4);
  x.lat = s.real(5);
  x.lon = s.real(6);
  x.cell = static_cast<uint64_t>(s.int64(7));
  x.status = parse_status(s.text(8)).value_or(SurplusStatus::kAvailable);
  x.version = s.int64(9);
  x.created_at = from_unix_ms(s.int64(10));
  x.expires_at = from_unix_ms(s.int64(11));
  if (!s.is_null(12)) {
    x.offer = Offer{s.text(12), from_unix_ms(s.int64(13)), static_cast<int>(s.int64(14))};
  }
  x.dead_lettered = s.int64(15) != 0;
  x.claimed_by = s.opt_text(16);
  x.claimed_at = opt_time(s, 17);
  x.picked_up_at = opt_time(s, 18);
  x.offered_to = split_list(s.text(19));
  x.dlq_reason = s.opt_text(20);
  x.dlq_at = opt_time(s, 21);
  x.waiting_since = opt_time(s, 22);
  return x;
}

Result<std::vector<Surplus>> read_all_surplus(SqliteStmt& st) {
  std::vector<Surplus> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(read_surplus(st));
  }
  return out;
}

// Binds the 23 surplus columns in kSurplusColumns order, starting at parameter `first`.
void bind_surplus(SqliteStmt& st, const Surplus& x, int first) {
  const int i = first;
  st.bind(i, x.id);
  st.bind(i + 1, x.provider_id);
  st.bind(i + 2, x.title);
  st.bind(i + 3, x.category);
  st.bind(i + 4, x.quantity_kg);
  st.bind(i + 5, x.lat);
  st.bind(i + 6, x.lon);
  st.bind(i + 7, static_cast<int64_t>(x.cell));
  st.bind(i + 8, std::string(status_name(x.status)));
  st.bind(i + 9, x.version);
  st.bind(i + 10, to_unix_ms(x.created_at));
  st.bind(i + 11, to_unix_ms(x.expires_at));
  st.bind(i + 12, x.offer ? std::optional<std::string>(x.offer->ngo_id) : std::nullopt);
  st.bind(i + 13, x.offer ? std::optional<int64_t>(to_unix_ms(x.offer->deadline)) : std::nullopt);
  st.bind(i + 14, x.offer ? std::optional<int64_t>(x.offer->attempt) : std::nullopt);
  st.bind(i + 15, static_cast<int64_t>(x.dead_lettered ? 1 : 0));
  st.bind(i + 16, x.claimed_by);
  st.bind(i + 17, opt_unix_ms(x.claimed_at));
  st.bind(i + 18, opt_unix_ms(x.picked_up_at));
  st.bind(i + 19, join_list(x.offered_to));
  st.bind(i + 20, x.dlq_reason);
  st.bind(i + 21, opt_unix_ms(x.dlq_at));
  st.bind(i + 22, opt_unix_ms(x.waiting_since));
}

// One outbox row, selected as: seq, id, type, surplus_id, occurred_at, traceparent, data, recipient, region.
Event outbox_event(const SqliteStmt& st) {
  Event e;
  e.seq = st.int64(0);
  e.id = st.text(1);
  e.type = st.text(2);
  e.surplus_id = st.text(3);
  e.occurred_at = from_unix_ms(st.int64(4));
  e.traceparent = st.text(5);
  e.data_json = st.text(6);
  e.recipient = st.text(7);
  e.region = st.text(8);
  return e;
}

Result<bool> has_column(SqliteDb& db, const std::string& table, const std::string& column) {
  auto st = db.prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
  if (!st) return st.status();
  (*st)->bind(1, table).bind(2, column);
  auto row = (*st)->step();
  if (!row) return row.status();
  return *row;
}

}  // namespace pahlawan::sqlite_rows

// The SQLite store's reads: each borrows a read connection (WAL lets it read beside the committer) and
// maps rows through sqlite_rows. The writes and the committer are in sqlite_store.cc.
#include "adapters/sqlite/sqlite_reader_lease.h"
#include "adapters/sqlite/sqlite_rows.h"
#include "adapters/sqlite/sqlite_store.h"
#include "common/fault.h"

namespace pahlawan {

using namespace sqlite_rows;

#define READER(var)                                                                       \
  ReaderLease var##_lease(*this);                                                         \
  if (!var##_lease.get()) return Status(ErrorCode::kUnavailable, "cannot open database"); \
  auto& var = *var##_lease.get()

Result<std::optional<Surplus>> SqliteStore::find_surplus(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READER(db);
  static const std::string sql = std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE id = ?";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Surplus>();
  return std::optional<Surplus>(read_surplus(st));
}

Result<std::vector<Surplus>> SqliteStore::load_open_surplus() {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE status IN ('available', 'claimed')";
  ASSIGN_STMT(st, db, sql.c_str());
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::load_open_surplus_in(CellRange cells, uint64_t /*region*/) {
  READER(db);
  static const std::string sql = std::string("SELECT ") + kSurplusColumns +
                                 " FROM surplus WHERE status IN ('available', 'claimed') AND cell BETWEEN ?1 AND ?2";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, static_cast<int64_t>(cells.first)).bind(2, static_cast<int64_t>(cells.last));
  return read_all_surplus(st);
}

namespace {
// The most candidates a browse reads from the cells before ordering them by distance.
constexpr int kMaxCellCandidates = 10000;
}  // namespace

Result<std::vector<Surplus>> SqliteStore::find_available_near(const BrowseArea& area, TimePoint created_before,
                                                              TimePoint now, const std::optional<std::string>& category,
                                                              int limit) {
  (void)PP_FAULT("store.read_offers");  // a slow read: tests check it holds no I/O thread
  READER(db);
  // The index is on the cell: every candidate in the covering ranges is read (up to a bound), then
  // ordered by distance here. Cell ids are stored as signed 64-bit; a range lies within one cube
  // face, so it keeps its order.
  static const std::string sql = std::string("SELECT ") + kSurplusColumns +
                                 " FROM surplus WHERE status = 'available' AND cell BETWEEN ?1 AND ?2 "
                                 "AND created_at < ?3 AND expires_at > ?4 AND (?5 IS NULL OR category = ?5) LIMIT ?6";
  std::vector<Surplus> out;
  for (const auto& r : area.cells) {
    if (static_cast<int>(out.size()) >= kMaxCellCandidates) break;
    ASSIGN_STMT(st, db, sql.c_str());
    st.bind(1, static_cast<int64_t>(r.first)).bind(2, static_cast<int64_t>(r.last));
    st.bind(3, to_unix_ms(created_before)).bind(4, to_unix_ms(now)).bind(5, category);
    st.bind(6, static_cast<int64_t>(kMaxCellCandidates - static_cast<int>(out.size())));
    auto part = read_all_surplus(st);
    if (!part) return part.status();
    for (auto& s : *part) out.push_back(std::move(s));
  }
  keep_nearest(out, area.lat, area.lon, area.radius_m, limit);
  return out;
}

Result<std::optional<IdempotencyRecord>> SqliteStore::find_idempotency(const std::string& provider_id,
                                                                       const std::string& key) {
  (void)PP_FAULT("store.point_read");
  READER(db);
  ASSIGN_STMT(st, db, "SELECT body_hash, surplus_id, created_at FROM idempotency WHERE provider_id = ? AND key = ?");
  st.bind(1, provider_id).bind(2, key);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<IdempotencyRecord>();
  return std::optional<IdempotencyRecord>(
      IdempotencyRecord{provider_id, key, st.text(0), st.text(1), from_unix_ms(st.int64(2))});
}

Result<std::vector<Surplus>> SqliteStore::find_offers_for(const std::string& ngo_id) {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns +
      " FROM surplus WHERE offer_ngo_id = ? AND status = 'available' ORDER BY offer_deadline";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, ngo_id);
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::find_dead_letters(const std::optional<DlqPosition>& after, int limit) {
  READER(db);
  static const std::string sql = std::string("SELECT ") + kSurplusColumns +
                                 " FROM surplus WHERE dead_lettered = 1 AND status = 'available' "
                                 "AND (?1 IS NULL OR dlq_at > ?1 OR (dlq_at = ?1 AND id > ?2)) "
                                 "ORDER BY dlq_at, id LIMIT ?3";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, after ? std::optional<int64_t>(to_unix_ms(after->at)) : std::nullopt);
  st.bind(2, after ? after->id : std::string());
  st.bind(3, static_cast<int64_t>(limit));
  return read_all_surplus(st);
}

Result<std::vector<Surplus>> SqliteStore::find_claimed_since(TimePoint since) {
  READER(db);
  static const std::string sql =
      std::string("SELECT ") + kSurplusColumns + " FROM surplus WHERE claimed_at >= ? AND claimed_by IS NOT NULL";
  ASSIGN_STMT(st, db, sql.c_str());
  st.bind(1, to_unix_ms(since));
  return read_all_surplus(st);
}

Result<std::vector<Ngo>> SqliteStore::load_ngos() {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT id FROM ngos");
  std::vector<std::string> ids;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    ids.push_back(st.text(0));
  }
  std::vector<Ngo> out;
  for (const auto& id : ids) {
    auto n = find_ngo(id);
    if (!n) return n.status();
    if (*n) out.push_back(std::move(**n));
  }
  return out;
}

Result<std::vector<Credential>> SqliteStore::load_credentials() {
  READER(db);
  std::vector<Credential> out;
  for (auto [sql, role] : {std::pair{"SELECT id, token_hash FROM providers", Role::kProvider},
                           std::pair{"SELECT id, token_hash FROM ngos", Role::kNgo}}) {
    ASSIGN_STMT(st, db, sql);
    for (;;) {
      auto row = st.step();
      if (!row) return row.status();
      if (!*row) break;
      out.push_back(Credential{Principal{role, st.text(0)}, st.text(1)});
    }
  }
  return out;
}

Result<std::optional<Credential>> SqliteStore::find_credential(Role role, const std::string& id) {
  if (role != Role::kProvider && role != Role::kNgo) return std::optional<Credential>();
  READER(db);
  ASSIGN_STMT(st, db,
              role == Role::kProvider ? "SELECT token_hash FROM providers WHERE id = ?"
                                      : "SELECT token_hash FROM ngos WHERE id = ?");
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Credential>();
  return std::optional<Credential>(Credential{Principal{role, id}, st.text(0)});
}

Result<std::optional<Provider>> SqliteStore::find_provider(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READER(db);
  ASSIGN_STMT(st, db, "SELECT id, name, lat, lon, created_at FROM providers WHERE id = ?");
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Provider>();
  return std::optional<Provider>(Provider{st.text(0), st.text(1), st.real(2), st.real(3), from_unix_ms(st.int64(4))});
}

Result<std::optional<Ngo>> SqliteStore::find_ngo(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READER(db);
  ASSIGN_STMT(
      st, db,
      "SELECT id, name, lat, lon, kind, categories, capacity_kg, webhook_url, created_at, webhook_secret FROM ngos "
      "WHERE id = ?");
  st.bind(1, id);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<Ngo>();
  Ngo n;
  n.id = st.text(0);
  n.name = st.text(1);
  n.lat = st.real(2);
  n.lon = st.real(3);
  n.kind = st.text(4) == "food_bank" ? NgoKind::kFoodBank : NgoKind::kNgo;
  n.categories = split_list(st.text(5));
  if (!st.is_null(6)) n.capacity_kg = st.real(6);
  n.webhook_url = st.opt_text(7);
  n.webhook_secret = st.opt_text(9);
  n.created_at = from_unix_ms(st.int64(8));
  return std::optional<Ngo>(std::move(n));
}

Result<std::optional<std::string>> SqliteStore::get_meta(const std::string& key) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  auto row = st.step();
  if (!row) return row.status();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<std::vector<Event>> SqliteStore::read_outbox(int64_t after_seq, int limit) {
  READER(db);
  ASSIGN_STMT(st, db,
              "SELECT seq, id, type, surplus_id, occurred_at, traceparent, data, recipient, region FROM outbox "
              "WHERE seq > ? ORDER BY seq LIMIT ?");
  st.bind(1, after_seq).bind(2, static_cast<int64_t>(limit));
  std::vector<Event> out;
  for (;;) {
    auto row = st.step();
    if (!row) return row.status();
    if (!*row) break;
    out.push_back(outbox_event(st));
  }
  return out;
}

Result<std::vector<Event>> SqliteStore::read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                                        int limit) {
  (void)PP_FAULT("store.read_offers");  // a slow read: tests check it holds no I/O thread
  READER(db);
  std::optional<int64_t> after;
  {
    ASSIGN_STMT(st, db, "SELECT seq FROM outbox WHERE id = ?");
    st.bind(1, after_event_id);
    auto row = st.step();
    if (!row) return row.status();
    if (*row) after = st.int64(0);
  }
  std::vector<Event> out;
  auto collect = [&](SqliteStmt& st) -> Status {
    for (;;) {
      auto row = st.step();
      if (!row) return row.status();
      if (!*row) return Status::ok();
      out.push_back(outbox_event(st));
    }
  };
  if (after) {  // a known event: the NGO's offers after it, by index
    ASSIGN_STMT(st, db,
                "SELECT seq, id, type, surplus_id, occurred_at, traceparent, data, recipient, region FROM outbox "
                "WHERE recipient = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
    st.bind(1, ngo_id).bind(2, *after).bind(3, static_cast<int64_t>(limit));
    RETURN_IF_ERROR(collect(st));
    return out;
  }
  // Unknown (or pruned) id: not history, only what the NGO can still act on — the latest offer of
  // each item whose pending offer is for it.
  ASSIGN_STMT(st, db,
              "SELECT o.seq, o.id, o.type, o.surplus_id, o.occurred_at, o.traceparent, o.data, o.recipient, o.region "
              "FROM surplus s JOIN outbox o ON o.seq = (SELECT max(seq) FROM outbox "
              "  WHERE recipient = ?1 AND surplus_id = s.id) "
              "WHERE s.offer_ngo_id = ?1 AND s.status = 'available' ORDER BY o.seq LIMIT ?2");
  st.bind(1, ngo_id).bind(2, static_cast<int64_t>(limit));
  RETURN_IF_ERROR(collect(st));
  return out;
}

Result<int64_t> SqliteStore::last_outbox_seq() {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT coalesce(max(seq), 0) FROM outbox");
  auto row = st.step();
  if (!row) return row.status();
  return st.int64(0);
}

Result<int64_t> SqliteStore::load_cursor(const std::string& consumer) {
  READER(db);
  ASSIGN_STMT(st, db, "SELECT seq FROM cursors WHERE consumer = ?");
  st.bind(1, consumer);
  auto row = st.step();
  if (!row) return row.status();
  return *row ? st.int64(0) : int64_t{0};
}

}  // namespace pahlawan

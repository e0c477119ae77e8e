// The PostgreSQL store's reads: each borrows a read connection and runs one statement prepared on it
// (pg_statements.cc), mapping rows through pg_rows. The writes and the committer are in pg_store.cc.
#include "adapters/postgres/pg_conn.h"
#include "adapters/postgres/pg_rows.h"
#include "adapters/postgres/pg_store.h"
#include "common/fault.h"
#include "common/word_list.h"

namespace pahlawan {

using namespace pg_rows;

// A read connection for one call, back to the pool after it.
class PostgresStore::ReaderLease {
 public:
  explicit ReaderLease(PostgresStore& store) : store_(store), conn_(store.acquire_reader()) {}
  ~ReaderLease() {
    if (conn_) store_.release_reader(std::move(conn_));
  }
  ReaderLease(const ReaderLease&) = delete;
  ReaderLease& operator=(const ReaderLease&) = delete;
  // Runs a statement; an error is the Result's status, and a broken connection is not pooled again.
  Result<PgResult> run(const char* statement, const PgParams& params = {}) {
    if (!conn_) return Status(ErrorCode::kUnavailable, "cannot connect to PostgreSQL");
    return conn_->run(statement, params);
  }

 private:
  PostgresStore& store_;
  std::unique_ptr<PgConn> conn_;
};

namespace {
PgParams params_of(std::initializer_list<std::string> values) {
  PgParams p;
  for (const auto& v : values) p.add(v);
  return p;
}
}  // namespace

#define READ(var, ...)                     \
  ReaderLease var##_lease(*this);          \
  auto var = var##_lease.run(__VA_ARGS__); \
  if (!var) return var.status()

Result<std::optional<Surplus>> PostgresStore::find_surplus(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READ(r, "find_surplus", params_of({id}));
  if (r->rows() == 0) return std::optional<Surplus>();
  return std::optional<Surplus>(read_surplus(*r, 0));
}

Result<std::vector<Surplus>> PostgresStore::load_open_surplus() {
  READ(r, "open_surplus");
  return read_all_surplus(*r);
}

Result<std::vector<Surplus>> PostgresStore::load_open_surplus_in(CellRange cells, uint64_t region) {
  // Ids are stored signed; a partition's range lies within one cube face, so it keeps its order.
  PgParams p;
  p.add(static_cast<int64_t>(cells.first)).add(static_cast<int64_t>(cells.last)).add(static_cast<int64_t>(region));
  READ(r, "open_surplus_in", p);
  return read_all_surplus(*r);
}

Result<std::vector<Surplus>> PostgresStore::find_available_near(const BrowseArea& area, TimePoint created_before,
                                                                TimePoint now,
                                                                const std::optional<std::string>& category, int limit) {
  (void)PP_FAULT("store.read_offers");  // a slow read: tests check it holds no I/O thread
  // PostGIS takes the nearest `limit` in GiST index order (<->) and the radius drops the rest (see
  // the statement); the regions covering the area let a distributed store (Citus, by
  // geo_region_id) send the query only to the shards that hold them.
  PgParams p;
  p.add(area.lat).add(area.lon).add(area.radius_m).add(to_unix_ms(created_before)).add(to_unix_ms(now));
  p.add(category).add(limit).add_int_array(covering_cells(area.lat, area.lon, area.radius_m, kRegionLevel));
  READ(r, "available_near", p);
  return read_all_surplus(*r);
}

Result<std::optional<IdempotencyRecord>> PostgresStore::find_idempotency(const std::string& provider_id,
                                                                         const std::string& key) {
  (void)PP_FAULT("store.point_read");
  READ(r, "find_idempotency", params_of({provider_id, key}));
  if (r->rows() == 0) return std::optional<IdempotencyRecord>();
  return std::optional<IdempotencyRecord>(
      IdempotencyRecord{provider_id, key, r->text(0, 0), r->text(0, 1), from_unix_ms(r->int64(0, 2))});
}

Result<std::vector<Surplus>> PostgresStore::find_offers_for(const std::string& ngo_id) {
  READ(r, "offers_for", params_of({ngo_id}));
  return read_all_surplus(*r);
}

Result<std::vector<Surplus>> PostgresStore::find_dead_letters(const std::optional<DlqPosition>& after, int limit) {
  PgParams p;
  p.add(after ? std::optional<int64_t>(to_unix_ms(after->at)) : std::nullopt);
  p.add(after ? after->id : std::string()).add(limit);
  READ(r, "dead_letters", p);
  return read_all_surplus(*r);
}

Result<std::vector<Surplus>> PostgresStore::find_claimed_since(TimePoint since) {
  PgParams p;
  p.add(to_unix_ms(since));
  READ(r, "claimed_since", p);
  return read_all_surplus(*r);
}

namespace {
Ngo read_ngo(const PgResult& r, int i) {
  Ngo n;
  n.id = r.text(i, 0);
  n.name = r.text(i, 1);
  n.lat = r.real(i, 2);
  n.lon = r.real(i, 3);
  n.kind = r.text(i, 4) == "food_bank" ? NgoKind::kFoodBank : NgoKind::kNgo;
  n.categories = split_list(r.text(i, 5));
  if (!r.is_null(i, 6)) n.capacity_kg = r.real(i, 6);
  n.webhook_url = r.opt_text(i, 7);
  n.created_at = from_unix_ms(r.int64(i, 8));
  n.webhook_secret = r.opt_text(i, 9);
  return n;
}
}  // namespace

Result<std::vector<Ngo>> PostgresStore::load_ngos() {
  PgParams p;
  p.add_null();
  READ(r, "ngos", p);
  std::vector<Ngo> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(read_ngo(*r, i));
  return out;
}

Result<std::optional<Ngo>> PostgresStore::find_ngo(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READ(r, "ngos", params_of({id}));
  if (r->rows() == 0) return std::optional<Ngo>();
  return std::optional<Ngo>(read_ngo(*r, 0));
}

Result<std::vector<Credential>> PostgresStore::load_credentials() {
  READ(r, "credentials");
  std::vector<Credential> out;
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back(Credential{Principal{r->text(i, 0) == "provider" ? Role::kProvider : Role::kNgo, r->text(i, 1)},
                             r->text(i, 2)});
  }
  return out;
}

Result<std::optional<Credential>> PostgresStore::find_credential(Role role, const std::string& id) {
  if (role != Role::kProvider && role != Role::kNgo) return std::optional<Credential>();
  READ(r, role == Role::kProvider ? "provider_credential" : "ngo_credential", params_of({id}));
  if (r->rows() == 0) return std::optional<Credential>();
  return std::optional<Credential>(Credential{Principal{role, id}, r->text(0, 0)});
}

Result<std::optional<Provider>> PostgresStore::find_provider(const std::string& id) {
  (void)PP_FAULT("store.point_read");  // a slow read: tests check it holds no I/O thread
  READ(r, "find_provider", params_of({id}));
  if (r->rows() == 0) return std::optional<Provider>();
  return std::optional<Provider>(
      Provider{r->text(0, 0), r->text(0, 1), r->real(0, 2), r->real(0, 3), from_unix_ms(r->int64(0, 4))});
}

Result<std::optional<std::string>> PostgresStore::get_meta(const std::string& key) {
  READ(r, "get_meta", params_of({key}));
  if (r->rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r->text(0, 0));
}

namespace {

Lease read_lease(const PgResult& r, int row) {
  return Lease{r.int64(row, 0), r.text(row, 1), r.int64(row, 2), from_unix_ms(r.int64(row, 3))};
}

}  // namespace

Result<std::optional<Lease>> PostgresStore::acquire(int64_t partition, const std::string& owner, Millis ttl) {
  PgParams p;
  p.add(partition).add(owner).add(static_cast<int64_t>(ttl.count()));
  ReaderLease conn(*this);
  // A renewal, a new lease, or a takeover of an expired one; none of them: another owner's, unexpired.
  // Then a renewal again: another thread of this same replica may have created the lease between
  // this one's renewal and creation (the herd's first posts of a partition, all at once), and then
  // this thread is its owner too, not refused.
  for (const char* step : {"lease_renew", "lease_create", "lease_take", "lease_renew"}) {
    auto r = conn.run(step, p);
    if (!r && std::string_view(step) == "lease_take" && options_.stall_limit.count() > 0) {
      // The row stayed locked past the lock wait: a session of the old owner stalled inside a commit
      // (see PostgresStoreOptions::session_name). Once its lease is a stall limit past expiry, its
      // sessions are ended, and the lease taken.
      PgParams e;
      e.add(partition).add(owner).add(static_cast<int64_t>(options_.stall_limit.count()));
      auto ended = conn.run("lease_evict", e);
      if (ended && ended->rows() > 0 && ended->int64(0, 0) > 0) r = conn.run(step, p);
    }
    if (!r) return r.status();
    if (r->rows() > 0) return std::optional<Lease>(read_lease(*r, 0));
  }
  return std::optional<Lease>();
}

Status PostgresStore::release(int64_t partition, const std::string& owner, int64_t epoch) {
  PgParams p;
  p.add(partition).add(owner).add(epoch);
  READ(r, "lease_release", p);
  return Status::ok();
}

Result<std::optional<Lease>> PostgresStore::hand_over(int64_t partition, const std::string& from, int64_t epoch,
                                                      const std::string& to, Millis ttl) {
  PgParams p;
  p.add(partition).add(from).add(epoch).add(to).add(static_cast<int64_t>(ttl.count()));
  READ(r, "lease_hand_over", p);
  if (r->rows() == 0) return std::optional<Lease>();
  return std::optional<Lease>(read_lease(*r, 0));
}

Result<std::vector<Lease>> PostgresStore::leases() {
  READ(r, "leases");
  std::vector<Lease> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back(read_lease(*r, i));
  return out;
}

Result<std::vector<Event>> PostgresStore::read_outbox(int64_t after_seq, int limit) {
  PgParams p;
  p.add(after_seq).add(limit);
  READ(r, "read_outbox", p);
  return read_all_events(*r);
}

Result<int64_t> PostgresStore::last_outbox_seq() {
  READ(r, "last_seq");
  return r->int64(0, 0);
}

Result<std::vector<Event>> PostgresStore::read_offers_for(const std::string& ngo_id, const std::string& after_event_id,
                                                          int limit) {
  (void)PP_FAULT("store.read_offers");  // a slow read: tests check it holds no I/O thread
  ReaderLease lease(*this);
  auto known = lease.run("event_seq", params_of({after_event_id}));
  if (!known) return known.status();
  PgParams p;
  p.add(ngo_id);
  if (known->rows() > 0) {  // a known event: the NGO's offers after it, by index
    p.add(known->int64(0, 0)).add(limit);
    auto r = lease.run("offers_after", p);
    if (!r) return r.status();
    return read_all_events(*r);
  }
  p.add(limit);
  auto r = lease.run("current_offers", p);
  if (!r) return r.status();
  return read_all_events(*r);
}

Result<int64_t> PostgresStore::load_cursor(const std::string& consumer) {
  READ(r, "load_cursor", params_of({consumer}));
  return r->rows() == 0 ? int64_t{0} : r->int64(0, 0);
}

}  // namespace pahlawan

#include "adapters/postgres/pg_rows.h"

#include "common/word_list.h"
#include "domain/geo.h"

namespace pahlawan::pg_rows {

namespace {
std::optional<TimePoint> opt_time(const PgResult& r, int row, int col) {
  return r.is_null(row, col) ? std::nullopt : std::optional<TimePoint>(from_unix_ms(r.int64(row, col)));
}
}  // namespace

Surplus read_surplus(const PgResult& r, int i) {
  Surplus x;
  x.id = r.text(i, 0);
  x.provider_id = r.text(i, 1);
  x.title = r.text(i, 2);
  x.category = r.text(i, 3);
  x.quantity_kg = r.real(i, 4);
  x.lat = r.real(i, 5);
  x.lon = r.real(i, 6);
  x.cell = static_cast<uint64_t>(r.int64(i, 7));
  x.status = parse_status(r.text(i, 8)).value_or(SurplusStatus::kAvailable);
  x.version = r.int64(i, 9);
  x.created_at = from_unix_ms(r.int64(i, 10));
  x.expires_at = from_unix_ms(r.int64(i, 11));
  if (!r.is_null(i, 12)) {
    x.offer = Offer{r.text(i, 12), from_unix_ms(r.int64(i, 13)), static_cast<int>(r.int64(i, 14))};
  }
  x.dead_lettered = r.boolean(i, 15);
  x.claimed_by = r.opt_text(i, 16);
  x.claimed_at = opt_time(r, i, 17);
  x.picked_up_at = opt_time(r, i, 18);
  x.offered_to = split_list(r.text(i, 19));
  x.dlq_reason = r.opt_text(i, 20);
  x.dlq_at = opt_time(r, i, 21);
  x.waiting_since = opt_time(r, i, 22);
  return x;
}

std::vector<Surplus> read_all_surplus(const PgResult& r) {
  std::vector<Surplus> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_surplus(r, i));
  return out;
}

Event outbox_event(const PgResult& r, int i) {
  Event e;
  e.seq = r.int64(i, 0);
  e.id = r.text(i, 1);
  e.type = r.text(i, 2);
  e.surplus_id = r.text(i, 3);
  e.occurred_at = from_unix_ms(r.int64(i, 4));
  e.traceparent = r.text(i, 5);
  e.data_json = r.text(i, 6);
  e.recipient = r.opt_text(i, 7).value_or("");
  e.region = r.opt_text(i, 8).value_or("");
  return e;
}

std::vector<Event> read_all_events(const PgResult& r) {
  std::vector<Event> out;
  out.reserve(r.rows());
  for (int i = 0; i < r.rows(); ++i) out.push_back(outbox_event(r, i));
  return out;
}

PgParams surplus_params(const Surplus& x) {
  PgParams p;
  p.add(x.id).add(x.provider_id).add(x.title).add(x.category).add(x.quantity_kg).add(x.lat).add(x.lon);
  // Cell ids are kept as signed 64-bit: a cell range lies within one cube face, so it keeps its order.
  p.add(static_cast<int64_t>(x.cell)).add(std::string(status_name(x.status))).add(x.version);
  p.add(to_unix_ms(x.created_at)).add(to_unix_ms(x.expires_at));
  if (x.offer) {
    p.add(x.offer->ngo_id).add(to_unix_ms(x.offer->deadline)).add(x.offer->attempt);
  } else {
    p.add_null().add_null().add_null();
  }
  p.add(x.dead_lettered).add(x.claimed_by).add(opt_unix_ms(x.claimed_at)).add(opt_unix_ms(x.picked_up_at));
  p.add(join_list(x.offered_to)).add(x.dlq_reason).add(opt_unix_ms(x.dlq_at)).add(opt_unix_ms(x.waiting_since));
  p.add(static_cast<int64_t>(cell_id_at(x.lat, x.lon, kRegionLevel)));
  return p;
}

}  // namespace pahlawan::pg_rows

#include "adapters/postgres/pg_statements.h"

#include <string_view>
#include <unordered_set>

#include "adapters/postgres/pg_rows.h"
#include "common/clock.h"

namespace pahlawan::pg_statements {

namespace {
#define SURPLUS_COLUMNS                                                                                      \
  "id, provider_id, title, category, quantity_kg, lat, lon, cell, status, version, created_at, expires_at, " \
  "offer_ngo_id, offer_deadline, offer_attempt, dead_lettered, claimed_by, claimed_at, picked_up_at, "       \
  "offered_to, dlq_reason, dlq_at, waiting_since, geo_region_id"
// One array per column, in surplus_params' order, times in unix ms; the update adds the expected
// versions as a 25th.
#define SURPLUS_UNNEST                                                                                    \
  "unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], "     \
  "$8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::text[], $14::bigint[], "   \
  "$15::integer[], $16::boolean[], $17::text[], $18::bigint[], $19::bigint[], $20::text[], $21::text[], " \
  "$22::bigint[], $23::bigint[], $24::bigint[], $25::bigint[]) AS t(id, provider_id, title, category, "   \
  "quantity_kg, lat, lon, cell, status, version, created_at, expires_at, offer_ngo_id, offer_deadline, "  \
  "offer_attempt, dead_lettered, claimed_by, claimed_at, picked_up_at, offered_to, dlq_reason, dlq_at, "  \
  "waiting_since, geo_region_id, expected)"
#define SURPLUS_FROM_V                                                                                      \
  "v.id, v.provider_id, v.title, v.category, v.quantity_kg, v.lat, v.lon, v.cell, v.status, v.version, "    \
  "pp_ts(v.created_at), pp_ts(v.expires_at), v.offer_ngo_id, pp_ts(v.offer_deadline), v.offer_attempt, "    \
  "v.dead_lettered, v.claimed_by, pp_ts(v.claimed_at), pp_ts(v.picked_up_at), v.offered_to, v.dlq_reason, " \
  "pp_ts(v.dlq_at), pp_ts(v.waiting_since), v.geo_region_id"
#define SURPLUS_SELECT                                                                                  \
  "id, provider_id, title, category, quantity_kg, lat, lon, cell, status, version, pp_ms(created_at), " \
  "pp_ms(expires_at), offer_ngo_id, pp_ms(offer_deadline), offer_attempt, dead_lettered, claimed_by, "  \
  "pp_ms(claimed_at), pp_ms(picked_up_at), offered_to, dlq_reason, pp_ms(dlq_at), pp_ms(waiting_since)"
#define OUTBOX_SELECT "seq, id, type, surplus_id, pp_ms(occurred_at), traceparent, data, recipient, region"
}  // namespace

const std::vector<PgStatement>& writes() {
  static const std::vector<PgStatement> all = {
      // Items go in and change many rows per statement (each column an array): per row, a statement
      // of its own cost the committer more than the row itself (see docs/benchmarks.md, issue 10).
      {"insert_surplus", "WITH v AS (SELECT * FROM " SURPLUS_UNNEST "), "
                         "k AS (INSERT INTO surplus_keys (id, created_at) SELECT v.id, pp_ts(v.created_at) FROM v) "
                         "INSERT INTO surplus (" SURPLUS_COLUMNS ") SELECT " SURPLUS_FROM_V " FROM v"},
      // The partition key (created_at, which never changes) narrows each row to one partition. Every
      // row must match its expected version, or the whole statement fails as a conflict; the caller
      // never puts two updates of one item in one statement.
      {"update_surplus",
       "WITH v AS (SELECT * FROM " SURPLUS_UNNEST "), "
       "u AS (UPDATE surplus s SET (" SURPLUS_COLUMNS ") = (" SURPLUS_FROM_V ") FROM v "
       "  WHERE s.id = v.id AND s.created_at = pp_ts(v.created_at) AND s.version = v.expected RETURNING 1) "
       "SELECT pp_expect_one(CASE WHEN (SELECT count(*) FROM u) = cardinality($1::text[]) THEN 1 ELSE 0 END, "
       "  'surplus ' || array_to_string($1::text[], ', '))"},
      {"reserve_seq", "SELECT pp_outbox_reserve($1)"},
      // A transaction's events in one statement, each column an array, numbered by position after
      // the block pp_outbox_reserve took: fewer statements while the counter row is locked.
      {"insert_events",
       "WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], "
       "  $6::text[], $7::text[], $8::text[]) WITH ORDINALITY "
       "  AS t(id, type, surplus_id, at_ms, traceparent, data, recipient, region, n)), "
       "k AS (INSERT INTO outbox_keys (id, seq) "
       "  SELECT id, current_setting('pp.outbox_base')::bigint + n FROM e RETURNING id, seq) "
       "INSERT INTO outbox (seq, id, type, surplus_id, occurred_at, traceparent, data, recipient, region) "
       "SELECT k.seq, e.id, e.type, e.surplus_id, pp_ts(e.at_ms), e.traceparent, e.data, e.recipient, e.region "
       "FROM e JOIN k USING (id)"},
      {"notify", "SELECT pg_notify('pp_outbox', '')"},
      // Fencing: the current epochs of a batch's partitions, their rows locked until the commit, so
      // a takeover (FOR UPDATE) waits for this transaction and cannot slip in between. KEY SHARE,
      // the weakest lock, lets the owner's renewals (plain UPDATEs) pass.
      // NGO budgets (UnitOfWork::budget): the NGOs' rows locked so that two processes' offers to one
      // NGO are checked one after the other, then what each holds.
      {"ngo_lock", "SELECT id FROM ngos WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE"},
      {"ngo_offers",
       "SELECT offer_ngo_id, count(*), coalesce(sum(quantity_kg), 0) FROM surplus "
       "WHERE status = 'available' AND offer_ngo_id = ANY($1::text[]) GROUP BY offer_ngo_id"},
      {"ngo_claims",
       "SELECT claimed_by, coalesce(sum(quantity_kg), 0) FROM surplus "
       "WHERE claimed_by = ANY($1::text[]) AND claimed_at > pp_ts($2) GROUP BY claimed_by"},
      {"lease_epochs", "SELECT partition_id, epoch FROM leases WHERE partition_id = ANY($1::bigint[]) FOR KEY SHARE"},
      {"insert_idempotency",
       "INSERT INTO idempotency (provider_id, key, body_hash, surplus_id, created_at) "
       "VALUES ($1, $2, $3, $4, pp_ts($5))"},
      {"insert_provider",
       "INSERT INTO providers (id, name, lat, lon, created_at, token_hash) VALUES ($1, $2, $3, $4, pp_ts($5), $6)"},
      {"insert_ngo",
       "INSERT INTO ngos (id, name, lat, lon, kind, categories, capacity_kg, webhook_url, webhook_secret, "
       "created_at, token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, pp_ts($10), $11)"},
      {"provider_token", "UPDATE providers SET token_hash = $2 WHERE id = $1"},
      {"ngo_token", "UPDATE ngos SET token_hash = $2 WHERE id = $1"},
      {"upsert_meta",
       "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"},
      // A cursor only moves forward, whatever order saves arrive in.
      {"upsert_cursor",
       "INSERT INTO cursors (consumer, seq) VALUES ($1, $2) "
       "ON CONFLICT (consumer) DO UPDATE SET seq = greatest(cursors.seq, excluded.seq)"},
      {"prune_idempotency",
       "DELETE FROM idempotency WHERE (provider_id, key) IN (SELECT provider_id, key FROM idempotency "
       "WHERE created_at < pp_ts($1) ORDER BY created_at LIMIT $2)"},
      // The oldest rows first, and only those every consumer has passed ($3: the consumers that
      // count, a missing cursor as 0; null: every cursor); with no cursor, none.
      {"prune_outbox",
       "WITH d AS (DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox "
       "  WHERE seq <= (CASE WHEN $3::text[] IS NULL THEN (SELECT coalesce(min(seq), 0) FROM cursors) "
       "    ELSE (SELECT coalesce(min(coalesce(c.seq, 0)), 0) FROM unnest($3::text[]) AS n(name) "
       "      LEFT JOIN cursors c ON c.consumer = n.name) END) ORDER BY seq LIMIT $2) "
       "  AND occurred_at < pp_ts($1) RETURNING id) "
       "DELETE FROM outbox_keys WHERE id IN (SELECT id FROM d)"},
  };
  return all;
}

const std::vector<PgStatement>& reads() {
  static const std::vector<PgStatement> all = {
      {"find_surplus",
       "SELECT " SURPLUS_SELECT
       " FROM surplus WHERE id = $1 AND created_at = (SELECT created_at FROM surplus_keys WHERE id = $1)"},
      {"open_surplus", "SELECT " SURPLUS_SELECT " FROM surplus WHERE status IN ('available', 'claimed')"},
      {"open_surplus_in", "SELECT " SURPLUS_SELECT " FROM surplus WHERE status IN ('available', 'claimed') "
                          "AND cell BETWEEN $1 AND $2 AND geo_region_id = $3"},
      // The index-ordered form: the nearest `limit` by <-> (a GiST scan per partition, merged in
      // distance order, stopping at the limit), then those beyond the radius dropped. With
      // ST_DWithin in the WHERE clause instead, the planner chose a bitmap scan of the whole radius
      // and a sort: 1.2 q/s against 1,435 q/s on 1 M rows (bench/browse_postgis.sh).
      {"available_near",
       "SELECT " SURPLUS_SELECT " FROM (SELECT *, "
       "  geog <-> ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS distance_m "
       "  FROM surplus WHERE status = 'available' AND geo_region_id = ANY($8::bigint[]) "
       "  AND created_at < pp_ts($4) AND expires_at > pp_ts($5) AND ($6::text IS NULL OR category = $6) "
       "  ORDER BY geog <-> ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography LIMIT $7) near "
       "WHERE distance_m <= $3 ORDER BY distance_m"},
      {"find_idempotency",
       "SELECT body_hash, surplus_id, pp_ms(created_at) FROM idempotency WHERE provider_id = $1 AND key = $2"},
      {"offers_for", "SELECT " SURPLUS_SELECT
                     " FROM surplus WHERE offer_ngo_id = $1 AND status = 'available' ORDER BY offer_deadline"},
      {"dead_letters", "SELECT " SURPLUS_SELECT " FROM surplus WHERE dead_lettered AND status = 'available' "
                       "AND ($1::bigint IS NULL OR dlq_at > pp_ts($1) OR (dlq_at = pp_ts($1) AND id > $2)) "
                       "ORDER BY dlq_at, id LIMIT $3"},
      {"claimed_since",
       "SELECT " SURPLUS_SELECT " FROM surplus WHERE claimed_at >= pp_ts($1) AND claimed_by IS NOT NULL"},
      {"ngos",
       "SELECT id, name, lat, lon, kind, categories, capacity_kg, webhook_url, pp_ms(created_at), webhook_secret "
       "FROM ngos WHERE $1::text IS NULL OR id = $1"},
      {"credentials",
       "SELECT 'provider', id, token_hash FROM providers UNION ALL SELECT 'ngo', id, token_hash FROM ngos"},
      {"provider_credential", "SELECT token_hash FROM providers WHERE id = $1"},
      {"ngo_credential", "SELECT token_hash FROM ngos WHERE id = $1"},
      {"find_provider", "SELECT id, name, lat, lon, pp_ms(created_at) FROM providers WHERE id = $1"},
      {"get_meta", "SELECT value FROM meta WHERE key = $1"},
      {"read_outbox", "SELECT " OUTBOX_SELECT " FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2"},
      {"last_seq", "SELECT coalesce(max(seq), 0) FROM outbox"},
      {"event_seq", "SELECT seq FROM outbox_keys WHERE id = $1"},
      {"offers_after", "SELECT " OUTBOX_SELECT " FROM outbox WHERE recipient = $1 AND seq > $2 ORDER BY seq LIMIT $3"},
      // An unknown (or pruned) event id: only what the NGO can still act on, the latest offer of each
      // item whose pending offer is for it.
      {"current_offers",
       "SELECT o.seq, o.id, o.type, o.surplus_id, pp_ms(o.occurred_at), o.traceparent, o.data, o.recipient, o.region "
       "FROM surplus s JOIN outbox o ON o.seq = (SELECT max(seq) FROM outbox "
       "  WHERE recipient = $1 AND surplus_id = s.id) "
       "WHERE s.offer_ngo_id = $1 AND s.status = 'available' ORDER BY o.seq LIMIT $2"},
      {"load_cursor", "SELECT seq FROM cursors WHERE consumer = $1"},
      // acquire() is three steps (pg_queries.cc), each one statement, so that only a change of owner
      // waits for the fenced commits of the partition: they hold its row FOR KEY SHARE, which a
      // renewal's plain UPDATE passes and a takeover's FOR UPDATE waits for.
      {"lease_renew",
       "UPDATE leases SET expires_at = now() + $3 * interval '1 millisecond' "
       "WHERE partition_id = $1 AND owner = $2 RETURNING partition_id, owner, epoch, pp_ms(expires_at)"},
      {"lease_create",
       "INSERT INTO leases (partition_id, owner, epoch, expires_at) "
       "VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond') ON CONFLICT (partition_id) DO NOTHING "
       "RETURNING partition_id, owner, epoch, pp_ms(expires_at)"},
      // After the wait for the lock, FOR UPDATE looks at the row again: of two replicas taking the
      // same expired lease, the second finds it unexpired and gets nothing.
      {"lease_take",
       "WITH expired AS (SELECT partition_id FROM leases "
       "  WHERE partition_id = $1 AND owner <> $2 AND expires_at <= now() FOR UPDATE) "
       "UPDATE leases l SET owner = $2, epoch = l.epoch + 1, expires_at = now() + $3 * interval '1 millisecond' "
       "FROM expired WHERE l.partition_id = expired.partition_id "
       "RETURNING l.partition_id, l.owner, l.epoch, pp_ms(l.expires_at)"},
      {"lease_evict",
       "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a JOIN leases l ON a.application_name = "
       "left(l.owner, 63) "
       "WHERE l.partition_id = $1 AND l.owner <> $2 AND l.expires_at <= now() - $3 * interval '1 millisecond' "
       "AND a.datname = current_database() AND a.pid <> pg_backend_pid()"},
      // FOR UPDATE, as in a takeover: it waits for the fenced commits that passed their check.
      {"lease_hand_over",
       "WITH held AS (SELECT partition_id FROM leases "
       "  WHERE partition_id = $1 AND owner = $2 AND epoch = $3 FOR UPDATE) "
       "UPDATE leases l SET owner = $4, epoch = l.epoch + 1, expires_at = now() + $5 * interval '1 millisecond' "
       "FROM held WHERE l.partition_id = held.partition_id "
       "RETURNING l.partition_id, l.owner, l.epoch, pp_ms(l.expires_at)"},
      {"lease_release", "UPDATE leases SET expires_at = now() WHERE partition_id = $1 AND owner = $2 AND epoch = $3"},
      {"leases", "SELECT partition_id, owner, epoch, pp_ms(expires_at) FROM leases ORDER BY partition_id"},
  };
  return all;
}

namespace {

// Rows of surplus_params turned into one text[] per column (the statements' unnest), plus the
// expected versions as the last column (all null for inserts).
PgParams columns_of(const std::vector<PgParams>& rows, const std::vector<int64_t>& expected) {
  PgParams out;
  const int width = rows.front().size();
  std::vector<const std::string*> column(rows.size());
  for (int c = 0; c < width; ++c) {
    for (size_t r = 0; r < rows.size(); ++r) column[r] = rows[r].at(c);
    out.add_text_array(column);
  }
  std::vector<std::string> versions;
  for (int64_t v : expected) versions.push_back(std::to_string(v));
  for (size_t r = 0; r < rows.size(); ++r) column[r] = versions.empty() ? nullptr : &versions[r];
  out.add_text_array(column);
  return out;
}

}  // namespace

void surplus_commands(const std::vector<const Surplus*>& inserts, const std::vector<const SurplusUpdate*>& updates,
                      std::vector<PgCommand>& out) {
  if (!inserts.empty()) {
    std::vector<PgParams> rows;
    for (const Surplus* x : inserts) rows.push_back(pg_rows::surplus_params(*x));
    out.push_back({"insert_surplus", columns_of(rows, {})});
  }
  std::vector<PgParams> rows;
  std::vector<int64_t> expected;
  std::unordered_set<std::string_view> ids;
  auto flush = [&] {
    if (rows.empty()) return;
    out.push_back({"update_surplus", columns_of(rows, expected)});
    rows.clear();
    expected.clear();
    ids.clear();
  };
  for (const SurplusUpdate* u : updates) {
    if (!ids.insert(u->after.id).second) {
      flush();
      ids.insert(u->after.id);
    }
    rows.push_back(pg_rows::surplus_params(u->after));
    expected.push_back(u->expected_version);
  }
  flush();
}

void event_commands(const std::vector<const Event*>& events, std::vector<PgCommand>& out) {
  if (events.empty()) return;
  PgParams reserve;
  reserve.add(static_cast<int64_t>(events.size()));
  out.push_back({"reserve_seq", std::move(reserve)});
  std::vector<const std::string*> ids, types, items, traces, data, recipients, regions;
  std::vector<std::string> times;
  times.reserve(events.size());
  for (const Event* e : events) {
    ids.push_back(&e->id);
    types.push_back(&e->type);
    items.push_back(&e->surplus_id);
    times.push_back(std::to_string(to_unix_ms(e->occurred_at)));
    traces.push_back(&e->traceparent);
    data.push_back(&e->data_json);
    recipients.push_back(e->recipient.empty() ? nullptr : &e->recipient);
    regions.push_back(e->region.empty() ? nullptr : &e->region);
  }
  std::vector<const std::string*> time_refs;
  for (const auto& t : times) time_refs.push_back(&t);
  PgParams p;
  p.add_text_array(ids).add_text_array(types).add_text_array(items).add_text_array(time_refs);
  p.add_text_array(traces).add_text_array(data).add_text_array(recipients).add_text_array(regions);
  out.push_back({"insert_events", std::move(p)});
  out.push_back({"notify", {}});
}

}  // namespace pahlawan::pg_statements

#!/usr/bin/env bash
# The PostgreSQL store's browse statement past the hot index ("available_near" in
# src/adapters/postgres/pg_statements.cc), measured with pgbench on 1,000,000 available items spread
# over Jakarta (about 40 × 44 km): "the nearest 50 within 5 km" of a random point, as a prepared
# statement (-M prepared), 4 clients, 2 threads, 10 s, in the form the store uses and, for comparison,
# with ST_DWithin in the WHERE clause. Starts its own PostgreSQL and stops it after.
#   bash bench/browse_postgis.sh [rows=1000000]
# Needs the release build (for `pahlawan migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
bin=${PAHLAWAN_BIN:-build/release/src/pahlawan}
source scripts/services.sh
trap stop_services EXIT
start_postgres >/dev/null
db="${PAHLAWAN_TEST_POSTGRES%/*}/pp_browse"
psql -q "$PAHLAWAN_TEST_POSTGRES" -c "CREATE DATABASE pp_browse"
"$bin" migrate --store "$db" >/dev/null
echo "== loading $rows available items"
# One region id for all (the whole city lies in one level-6 cell); created in the last hour, so in
# today's partition; expiring tomorrow.
time psql -q "$db" <<SQL
INSERT INTO surplus (id, provider_id, title, category, quantity_kg, lat, lon, cell, geo_region_id, status,
                     version, created_at, expires_at)
SELECT 'sp-' || g, 'pv-' || (g % 10000), 'Nasi', 'prepared_meal', 5,
       -6.4 + random() * 0.4, 106.6 + random() * 0.4, 0, 1, 'available', 1,
       now() - random() * interval '1 hour', now() + interval '1 day'
FROM generate_series(1, $rows) g;
ANALYZE surplus;
SQL
columns="id, provider_id, title, category, quantity_kg, lat, lon, cell, status, version, pp_ms(created_at),
  pp_ms(expires_at), offer_ngo_id, pp_ms(offer_deadline), offer_attempt, dead_lettered, claimed_by,
  pp_ms(claimed_at), pp_ms(picked_up_at), offered_to, dlq_reason, pp_ms(dlq_at), pp_ms(waiting_since)"
point="ST_SetSRID(ST_MakePoint(:lon / 1e6, :lat / 1e6), 4326)::geography"
vars='\set lat random(-6400000, -6000000)
\set lon random(106600000, 107000000)'
# As the store runs it: the nearest 50 by <-> (index order), then those beyond 5 km dropped.
cat >"$PP_PG_DIR/knn.sql" <<SQL
$vars
SELECT $columns FROM (SELECT *, geog <-> $point AS distance_m
  FROM surplus WHERE status = 'available' AND geo_region_id = ANY('{1}'::bigint[])
    AND created_at < now() AND expires_at > now()
  ORDER BY geog <-> $point LIMIT 50) near
WHERE distance_m <= 5000 ORDER BY distance_m;
SQL
# For comparison: the radius as ST_DWithin in the WHERE clause (the planner reads the whole radius).
cat >"$PP_PG_DIR/dwithin.sql" <<SQL
$vars
SELECT $columns FROM surplus WHERE status = 'available' AND geo_region_id = ANY('{1}'::bigint[])
  AND ST_DWithin(geog, $point, 5000) AND created_at < now() AND expires_at > now()
ORDER BY geog <-> $point LIMIT 50;
SQL
for form in knn dwithin; do
  echo "== pgbench, $form: nearest 50 within 5 km, prepared, 4 clients, 2 threads, 10 s"
  pgbench -n -M prepared -f "$PP_PG_DIR/$form.sql" -c 4 -j 2 -T 10 "$db" | grep -E "latency average|^tps|failed"
done

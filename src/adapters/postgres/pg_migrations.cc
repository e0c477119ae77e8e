#include "adapters/postgres/pg_migrations.h"

namespace pahlawan {

namespace {

// 1: the tables. Times are timestamptz (what an operator queries by); the store passes them as Unix
// milliseconds through pp_ts and reads them back through pp_ms, both exact at millisecond precision.
// surplus and outbox are partitioned by time (migration 2 hands them to pg_partman); their primary
// keys therefore include the partition column. Every surplus row carries geo_region_id, the S2 cell
// at the region level (domain/geo.h): the key a Citus cluster distributes by (docs/postgres.md).
constexpr const char* kInitialSchema = R"SQL(
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE FUNCTION pp_ts(ms bigint) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT to_timestamp(ms / 1000.0) $$;
CREATE FUNCTION pp_ms(t timestamptz) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT (extract(epoch FROM t) * 1000)::bigint $$;

-- An optimistic update that found another version fails its whole unit of work with SQLSTATE
-- PP409 (the store's kConflict), so that a pipelined unit stops there instead of going on.
CREATE FUNCTION pp_expect_one(n bigint, what text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  IF n <> 1 THEN
    RAISE EXCEPTION '% changed concurrently', what USING ERRCODE = 'PP409';
  END IF;
  RETURN n;
END $$;

CREATE TABLE providers (
  id text PRIMARY KEY, name text NOT NULL, lat double precision NOT NULL, lon double precision NOT NULL,
  created_at timestamptz NOT NULL, token_hash text NOT NULL UNIQUE);
CREATE TABLE ngos (
  id text PRIMARY KEY, name text NOT NULL, lat double precision NOT NULL, lon double precision NOT NULL,
  kind text NOT NULL, categories text NOT NULL, capacity_kg double precision, webhook_url text,
  webhook_secret text, created_at timestamptz NOT NULL, token_hash text NOT NULL UNIQUE);

CREATE TABLE surplus (
  id text NOT NULL, provider_id text NOT NULL, title text NOT NULL, category text NOT NULL,
  quantity_kg double precision NOT NULL, lat double precision NOT NULL, lon double precision NOT NULL,
  cell bigint NOT NULL, geo_region_id bigint NOT NULL,
  geog geography(Point, 4326) GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
  status text NOT NULL, version bigint NOT NULL,
  created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL,
  offer_ngo_id text, offer_deadline timestamptz, offer_attempt integer,
  dead_lettered boolean NOT NULL DEFAULT false,
  claimed_by text, claimed_at timestamptz, picked_up_at timestamptz,
  offered_to text NOT NULL DEFAULT '', dlq_reason text, dlq_at timestamptz, waiting_since timestamptz,
  PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX surplus_id ON surplus (id);
-- An item id is unique across partitions (a partitioned table's unique index cannot be), and this
-- table also says which partition holds it: reads by id go to that one alone.
CREATE TABLE surplus_keys (id text PRIMARY KEY, created_at timestamptz NOT NULL);
CREATE INDEX surplus_open ON surplus (status) WHERE status IN ('available', 'claimed');
CREATE INDEX surplus_available_cell ON surplus (cell) WHERE status = 'available';
CREATE INDEX surplus_available_geog ON surplus USING gist (geog) WHERE status = 'available';
CREATE INDEX surplus_offer ON surplus (offer_ngo_id) WHERE offer_ngo_id IS NOT NULL;
CREATE INDEX surplus_dlq_page ON surplus (dlq_at, id) WHERE dead_lettered;
CREATE INDEX surplus_claimed ON surplus (claimed_at) WHERE claimed_by IS NOT NULL;

CREATE TABLE idempotency (
  provider_id text NOT NULL, key text NOT NULL, body_hash text NOT NULL, surplus_id text NOT NULL,
  created_at timestamptz NOT NULL, PRIMARY KEY (provider_id, key));
CREATE INDEX idempotency_created ON idempotency (created_at);

-- seq is commit order, not insert order: a committing transaction takes its block of numbers from
-- outbox_counter as its last statement, and the row lock it takes there is held until its commit
-- ends, so no transaction can commit a smaller seq after a larger one is visible. A relay reading
-- "seq > cursor" therefore never skips an event that commits late.
CREATE TABLE outbox (
  seq bigint NOT NULL, id text NOT NULL, type text NOT NULL, surplus_id text NOT NULL,
  occurred_at timestamptz NOT NULL, traceparent text NOT NULL, data text NOT NULL, recipient text,
  PRIMARY KEY (seq, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX outbox_seq ON outbox (seq);
-- Event ids are unique across partitions, and an event's seq is found by its id (SSE's Last-Event-ID).
CREATE TABLE outbox_keys (id text PRIMARY KEY, seq bigint NOT NULL);
CREATE INDEX outbox_keys_seq ON outbox_keys (seq);
CREATE INDEX outbox_recipient_seq ON outbox (recipient, seq) WHERE recipient IS NOT NULL;
CREATE INDEX outbox_recipient_item ON outbox (recipient, surplus_id, seq) WHERE recipient IS NOT NULL;
CREATE TABLE outbox_counter (id integer PRIMARY KEY CHECK (id = 1), last bigint NOT NULL);
INSERT INTO outbox_counter VALUES (1, 0);
-- Reserves n numbers for this transaction's events; they are current_setting('pp.outbox_base') + 1..n.
CREATE FUNCTION pp_outbox_reserve(n bigint) RETURNS bigint LANGUAGE sql AS $$
  UPDATE outbox_counter SET last = last + n WHERE id = 1
  RETURNING set_config('pp.outbox_base', (last - n)::text, true)::bigint $$;

CREATE TABLE cursors (consumer text PRIMARY KEY, seq bigint NOT NULL);
CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
)SQL";

// 2: daily partitions, made ahead of time by pg_partman, and a default partition for rows outside
// them (an item posted with a clock far off). Retention (30 days) detaches old partitions and
// keeps them as tables, for archiving; run_maintenance() creates new days and applies it.
constexpr const char* kTimePartitions = R"SQL(
CREATE SCHEMA IF NOT EXISTS partman;
CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;
SELECT partman.create_parent('public.surplus', 'created_at', 'native', 'daily', p_premake := 4);
SELECT partman.create_parent('public.outbox', 'occurred_at', 'native', 'daily', p_premake := 4);
UPDATE partman.part_config SET retention = '30 days', retention_keep_table = true,
  infinite_time_partitions = true
  WHERE parent_table IN ('public.surplus', 'public.outbox');
)SQL";

// The item's S2 region on each event, for the bus subject (pp.<type>.<region>). Events written
// before it have none.
constexpr const char* kEventRegion = R"SQL(
ALTER TABLE outbox ADD COLUMN region text;
)SQL";

// Old partitions to cheap storage. Retention moves a partition past it into pp_detached;
// pp_archive_partition writes one to a compressed CSV file in an archive directory (the stand-in
// for object storage), replaces it by a file_fdw foreign table in pp_archive that reads the file,
// and drops it; pp_restore_partition loads one back into pp_restored. Both run on the database
// server (COPY … PROGRAM: a superuser or pg_execute_server_program), so the directory is a path on
// the server, and the data never travels through a client. A file is written under a temporary
// name, synced and renamed, and read back through its foreign table before the table it came
// from is dropped.
constexpr const char* kArchive = R"SQL(
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER pp_archive_files FOREIGN DATA WRAPPER file_fdw;
CREATE SCHEMA pp_detached;
CREATE SCHEMA pp_archive;
CREATE SCHEMA pp_restored;
CREATE TABLE pp_archive.files (
  table_name text PRIMARY KEY, parent text NOT NULL, file text NOT NULL, row_count bigint NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now());
UPDATE partman.part_config SET retention_schema = 'pp_detached'
  WHERE parent_table IN ('public.surplus', 'public.outbox');

-- The columns of a table that a CSV file carries: all but generated ones (geog is derived again).
CREATE FUNCTION pp_archive_columns(p_table regclass, p_with_types boolean) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT string_agg(quote_ident(attname) ||
                    CASE WHEN p_with_types THEN ' ' || format_type(atttypid, atttypmod) ELSE '' END,
                    ', ' ORDER BY attnum)
  FROM pg_attribute
  WHERE attrelid = p_table AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
$$;

CREATE FUNCTION pp_archive_partition(p_table text, p_dir text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  parent text := substring(p_table from '^(surplus|outbox)_p');
  file text := rtrim(p_dir, '/') || '/' || p_table || '.csv.gz';
  source regclass;
  n bigint;
  m bigint;
BEGIN
  IF parent IS NULL OR p_table !~ '^[a-z0-9_]+$' THEN
    RAISE EXCEPTION 'not a detached partition of surplus or outbox: %', p_table;
  END IF;
  -- The path goes into a shell command: only plain characters.
  IF p_dir !~ '^/[A-Za-z0-9/_.-]+$' THEN
    RAISE EXCEPTION 'the archive directory must be an absolute path of letters, digits and / _ . -: %', p_dir;
  END IF;
  source := format('pp_detached.%I', p_table)::regclass;
  EXECUTE format('SELECT count(*) FROM %s', source) INTO n;
  EXECUTE format('COPY (SELECT %s FROM %s) TO PROGRAM %L (FORMAT csv, HEADER)',
                 pp_archive_columns(source, false), source,
                 format('mkdir -p %s && gzip > %s.tmp && sync %s.tmp && mv %s.tmp %s && sync %s',
                        rtrim(p_dir, '/'), file, file, file, file, rtrim(p_dir, '/')));
  EXECUTE format('CREATE FOREIGN TABLE pp_archive.%I (%s) SERVER pp_archive_files '
                 'OPTIONS (program %L, format ''csv'', header ''true'')',
                 p_table, pp_archive_columns(source, true), 'gzip -dc ' || file);
  EXECUTE format('SELECT count(*) FROM pp_archive.%I', p_table) INTO m;
  IF m <> n THEN
    RAISE EXCEPTION 'the archive of % reads back % rows, not %', p_table, m, n;
  END IF;
  -- Their ids leave the live key tables with them.
  EXECUTE format('DELETE FROM %I k USING %s d WHERE k.id = d.id', parent || '_keys', source);
  EXECUTE format('DROP TABLE %s', source);
  INSERT INTO pp_archive.files (table_name, parent, file, row_count) VALUES (p_table, parent, file, n);
  RETURN n;
END $$;

CREATE FUNCTION pp_restore_partition(p_table text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  f pp_archive.files;
  n bigint;
BEGIN
  SELECT * INTO f FROM pp_archive.files WHERE table_name = p_table;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no archived partition %', p_table;
  END IF;
  EXECUTE format('CREATE TABLE pp_restored.%I (LIKE public.%I INCLUDING DEFAULTS INCLUDING GENERATED)',
                 p_table, f.parent);
  EXECUTE format('COPY pp_restored.%I (%s) FROM PROGRAM %L (FORMAT csv, HEADER)', p_table,
                 pp_archive_columns(format('pp_archive.%I', p_table)::regclass, false), 'gzip -dc ' || f.file);
  EXECUTE format('SELECT count(*) FROM pp_restored.%I', p_table) INTO n;
  IF n <> f.row_count THEN
    RAISE EXCEPTION 'restored % rows of %, the archive recorded %', n, p_table, f.row_count;
  END IF;
  EXECUTE format('DROP FOREIGN TABLE pp_archive.%I', p_table);
  DELETE FROM pp_archive.files WHERE table_name = p_table;
  RETURN n;
END $$;
)SQL";

// Two indexes every item insert (and every non-HOT update: an offer changes indexed columns) paid
// for without a reader: surplus_id duplicates the primary key's leading column, and browse past the
// hot index reads the GiST index since migration 3's binary, not the cell index.
constexpr const char* kLeanerSurplusIndexes = R"SQL(
DROP INDEX surplus_id;
DROP INDEX surplus_available_cell;
)SQL";

// Partition leases (docs/replicas.md): one row per partition (an S2 cell at kPartitionLevel), its
// owner, an epoch that grows with each change of owner, and its expiry by this server's clock. A
// reference table under Citus: every replica reads it, and a fenced commit locks its rows (FOR KEY
// SHARE).
constexpr const char* kLeases = R"SQL(
CREATE TABLE leases (
  partition_id bigint PRIMARY KEY, owner text NOT NULL, epoch bigint NOT NULL, expires_at timestamptz NOT NULL);
)SQL";

}  // namespace

const std::vector<PgMigration>& pg_migrations() {
  static const std::vector<PgMigration> all = {
      {1, "initial schema", kInitialSchema},
      {2, "daily partitions by pg_partman", kTimePartitions},
      {3, "region on outbox events", kEventRegion},
      {4, "archive of detached partitions (file_fdw)", kArchive},
      {5, "drop the surplus indexes no query reads", kLeanerSurplusIndexes},
      {6, "partition leases", kLeases},
  };
  return all;
}

namespace {
// An arbitrary constant: the advisory lock key of migrations.
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7461001)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7461001)";
}  // namespace

Result<int> pg_schema_version(PgConn& conn) {
  auto present = conn.query("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
  if (!present) return present.status();
  if (!present->boolean(0, 0)) return 0;
  auto v = conn.query("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!v) return v.status();
  return static_cast<int>(v->int64(0, 0));
}

Result<std::vector<int>> pg_migrate(PgConn& conn) {
  if (Status s = conn.exec(kMigrationLock); !s) return s;
  auto unlock = [&] { (void)conn.exec(kMigrationUnlock); };
  Status s = conn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
      "applied_at timestamptz NOT NULL DEFAULT now())");
  auto current = s ? pg_schema_version(conn) : Result<int>(s);
  if (!current) {
    unlock();
    return current.status();
  }
  std::vector<int> applied;
  for (const auto& m : pg_migrations()) {
    if (m.version <= *current) continue;
    PgParams p;
    p.add(m.version).add(m.name);
    s = conn.exec("BEGIN");
    if (s) s = conn.exec(m.sql);
    if (s) s = conn.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", p).status();
    if (s) s = conn.exec("COMMIT");
    if (!s) {
      (void)conn.exec("ROLLBACK");
      unlock();
      return Status(s.code(), "migration " + std::to_string(m.version) + " (" + m.name + "): " + s.message());
    }
    applied.push_back(m.version);
  }
  unlock();
  return applied;
}

}  // namespace pahlawan

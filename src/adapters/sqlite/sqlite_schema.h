// The SQLite schema of the embedded store, applied idempotently at open.
#pragma once

namespace pahlawan {

inline constexpr const char* kSqliteSchema = R"SQL(
CREATE TABLE IF NOT EXISTS providers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL,
  created_at INTEGER NOT NULL, token_hash TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS ngos (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, kind TEXT NOT NULL,
  categories TEXT NOT NULL, capacity_kg REAL, webhook_url TEXT, webhook_secret TEXT,
  created_at INTEGER NOT NULL, token_hash TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS surplus (
  id TEXT PRIMARY KEY, provider_id TEXT NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL,
  quantity_kg REAL NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, cell INTEGER NOT NULL,
  status TEXT NOT NULL, version INTEGER NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  offer_ngo_id TEXT, offer_deadline INTEGER, offer_attempt INTEGER,
  dead_lettered INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT, claimed_at INTEGER, picked_up_at INTEGER,
  offered_to TEXT NOT NULL DEFAULT '', dlq_reason TEXT, dlq_at INTEGER, waiting_since INTEGER);

CREATE INDEX IF NOT EXISTS surplus_open ON surplus(status) WHERE status IN ('available', 'claimed');
-- Cold browsing reads available items older than the hot window. Keyed by time, new items append
-- to the end of this index; a (lat, lon) index would touch a random page per post and cost the
-- herd a WAL frame each.
CREATE INDEX IF NOT EXISTS surplus_available_created ON surplus(created_at) WHERE status = 'available';
CREATE TABLE IF NOT EXISTS idempotency (
  provider_id TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL, surplus_id TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (provider_id, key));
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
  surplus_id TEXT NOT NULL, occurred_at INTEGER NOT NULL, traceparent TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Partition leases (ports/lease_store.h): one process owns everything in the embedded default, but
-- the store keeps the same contract as PostgreSQL's.
CREATE TABLE IF NOT EXISTS leases (
  partition_id INTEGER PRIMARY KEY, owner TEXT NOT NULL, epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL);
)SQL";

// Indexes on columns added after the first release: created once the columns exist.
inline constexpr const char* kSqliteLateIndexes = R"SQL(
CREATE INDEX IF NOT EXISTS surplus_offer ON surplus(offer_ngo_id) WHERE offer_ngo_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS surplus_dlq ON surplus(dlq_at) WHERE dead_lettered = 1;
CREATE INDEX IF NOT EXISTS surplus_dlq_page ON surplus(dlq_at, id) WHERE dead_lettered = 1;
-- An NGO's offers, for the SSE replay: after a known event (recipient, seq), or the latest offer of
-- each item it holds now (recipient, surplus_id, seq). Only offered events have a recipient.
-- Cold browsing reads the available items of an area by cell ranges (see covering_ranges).
CREATE INDEX IF NOT EXISTS surplus_available_cell ON surplus(cell) WHERE status = 'available';
-- Retention deletes the oldest idempotency records first.
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency(created_at);
CREATE INDEX IF NOT EXISTS outbox_recipient_seq ON outbox(recipient, seq) WHERE recipient IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_recipient_item ON outbox(recipient, surplus_id, seq) WHERE recipient IS NOT NULL;
)SQL";

}  // namespace pahlawan

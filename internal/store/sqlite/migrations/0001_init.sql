-- Initial schema. Times are Unix nanoseconds (UTC) in BIGINT columns; JSON and sealed secrets are
-- BLOBs. Only INTEGER PRIMARY KEY is SQLite-specific (it aliases the rowid, the fastest key); the
-- rest is plain SQL that PostgreSQL accepts as is.

-- Counters for journal and alert seq numbers, kept apart from the rows so that trimming never lets
-- a seq be reused and LastSeq survives an empty journal.
CREATE TABLE sequences (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('journal', 0), ('alerts', 0);

CREATE TABLE journal (
	seq            INTEGER PRIMARY KEY,
	integration_id BIGINT NOT NULL,
	uuid           TEXT NOT NULL,
	published      BIGINT,
	event_type     TEXT NOT NULL,
	raw            BLOB NOT NULL,
	stored_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX journal_integration_uuid ON journal (integration_id, uuid);

CREATE TABLE cursors (
	integration_id BIGINT PRIMARY KEY,
	next_url       TEXT NOT NULL,
	last_published BIGINT,
	updated_at     BIGINT NOT NULL
);

CREATE TABLE consumers (
	name          TEXT PRIMARY KEY,
	stream        TEXT NOT NULL,
	offset_seq    BIGINT NOT NULL,
	registered_at BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

-- The journal keeps each event once, compressed (internal/store/sqlite/rawcodec.go): zstd against a
-- dictionary of the integration's own events, one frame per event so that a single event reads
-- without its neighbours. dict says how raw is stored: NULL as received, 0 zstd without a
-- dictionary, n zstd against journal_dicts.id = n. Dictionaries are never changed or deleted
-- while idwatch runs, so every row keeps the one it was written with.
--
-- Normalized records are no longer stored: OCSF is derived from the journal entry when a sink or
-- the API asks for it (docs/storage.md, "What is stored"), so the records table goes.

CREATE TABLE journal_dicts (
	id             INTEGER PRIMARY KEY,
	integration_id BIGINT NOT NULL,
	dict           BLOB NOT NULL,
	created_at     BIGINT NOT NULL
);
CREATE INDEX journal_dicts_integration ON journal_dicts (integration_id, id);

CREATE TABLE journal_packed (
	seq            INTEGER PRIMARY KEY,
	integration_id BIGINT NOT NULL,
	uuid           TEXT NOT NULL,
	published      BIGINT,
	event_type     TEXT NOT NULL,
	stored_at      BIGINT NOT NULL,
	dict           BIGINT,
	raw            BLOB NOT NULL
);

-- go: pack_journal (copies every journal row into journal_packed, compressed)

DROP TABLE journal;
ALTER TABLE journal_packed RENAME TO journal;
CREATE UNIQUE INDEX journal_integration_uuid ON journal (integration_id, uuid);
CREATE INDEX journal_published ON journal (published, uuid);
DROP TABLE records;

-- The event index behind event search (docs/storage.md, "Event index"): a few integer-coded
-- columns per journal entry and one posting per searchable term, all written in the same
-- transaction as the journal append. Strings live once, in two dictionaries.

-- search_names holds event types (kind 1) and outcome results (kind 2).
CREATE TABLE search_names (
	id   INTEGER PRIMARY KEY,
	kind INTEGER NOT NULL,
	name TEXT NOT NULL,
	UNIQUE (kind, name)
);

-- search_entities holds actors and targets as (id, alternateId) pairs, and client addresses
-- as (address, ''). Logins compare case-insensitively, as Okta compares them.
CREATE TABLE search_entities (
	id      INTEGER PRIMARY KEY,
	okta_id TEXT NOT NULL COLLATE NOCASE,
	alt_id  TEXT NOT NULL COLLATE NOCASE,
	UNIQUE (okta_id, alt_id)
);
CREATE INDEX search_entities_alt ON search_entities (alt_id);

-- One row per journal entry: published (Unix milliseconds, 0 when the event has none),
-- integration, type and outcome (search_names ids), actor and client address
-- (search_entities ids, 0 for none) and the targets' entity ids as varints.
CREATE TABLE event_index (
	seq            INTEGER PRIMARY KEY,
	pub            BIGINT NOT NULL,
	integration_id BIGINT NOT NULL,
	type_id        INTEGER NOT NULL,
	outcome_id     INTEGER NOT NULL,
	actor_id       INTEGER NOT NULL,
	ip_id          INTEGER NOT NULL,
	targets        BLOB
);

-- Postings: term = id * 8 + role (0 every event, 1 type, 2 actor, 3 target, 4 client address),
-- ordered by event time, so a query on one term reads its first page in order and stops.
CREATE TABLE event_terms (
	term BIGINT NOT NULL,
	pub  BIGINT NOT NULL,
	seq  BIGINT NOT NULL,
	PRIMARY KEY (term, pub, seq)
) WITHOUT ROWID;

-- Entries stored before this migration are indexed when the store opens, in batches, up to
-- this seq; the row goes when they all are. Appends after the migration index themselves.
CREATE TABLE event_index_backfill (
	through BIGINT NOT NULL,
	done    BIGINT NOT NULL
);
INSERT INTO event_index_backfill (through, done) SELECT MAX(seq), 0 FROM journal HAVING MAX(seq) IS NOT NULL;

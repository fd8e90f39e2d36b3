-- The incident stream: one row per change of an incident (created, grouping changed, workflow
-- changed, closed, merged away), each holding the incident's state after that change, so sinks
-- can deliver every change as an OCSF Incident Finding in order. Seqs come from the sequences
-- table like the journal's and the alerts', so they are never reused after trimming.
-- alert_suppressions holds analysts' "stop grouping this rule's alerts about this entity" choices.

CREATE TABLE incident_stream (
	seq         INTEGER PRIMARY KEY,
	incident_id TEXT NOT NULL,
	activity    TEXT NOT NULL,
	at          BIGINT NOT NULL,
	snapshot    BLOB NOT NULL
);
CREATE INDEX incident_stream_incident ON incident_stream (incident_id, seq);

INSERT INTO sequences (name, value) VALUES ('incidents', 0);

CREATE TABLE alert_suppressions (
	id          INTEGER PRIMARY KEY,
	incident_id TEXT NOT NULL,
	rule_id     TEXT NOT NULL,
	entity      TEXT NOT NULL,
	scope       TEXT NOT NULL,
	reason      TEXT NOT NULL,
	actor       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	expires_at  BIGINT
);
CREATE INDEX alert_suppressions_rule ON alert_suppressions (rule_id);

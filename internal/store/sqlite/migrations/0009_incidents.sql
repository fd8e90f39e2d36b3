-- Incidents group alerts about one entity (internal/incident); the processor writes the grouping
-- fields, analysts the workflow (status, assignee, notes). incident_history keeps every change,
-- notes included; it moves to the surviving incident when a later alert merges two.

CREATE TABLE incidents (
	id          TEXT PRIMARY KEY,
	entity      TEXT NOT NULL,
	status      TEXT NOT NULL,
	assignee    TEXT NOT NULL DEFAULT '',
	risk        INTEGER NOT NULL,
	severity    TEXT NOT NULL,
	first_alert BIGINT NOT NULL,
	last_alert  BIGINT NOT NULL,
	alert_ids   TEXT NOT NULL,
	detail      BLOB NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	closed_at   BIGINT
);
CREATE INDEX incidents_status_risk ON incidents (status, risk DESC, last_alert DESC);
CREATE INDEX incidents_risk ON incidents (risk DESC, last_alert DESC);

CREATE TABLE incident_history (
	seq         INTEGER PRIMARY KEY,
	incident_id TEXT NOT NULL,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	kind        TEXT NOT NULL,
	text        TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, seq);

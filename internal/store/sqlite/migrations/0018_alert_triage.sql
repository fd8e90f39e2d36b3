-- Alert triage (docs/storage.md, "Alert triage"): each alert's status with who set it and when,
-- the status it had before a suppression (it returns to it when the suppression expires), an
-- append-only history of every change and note, and the identities each alert is about, for
-- the alert list's identity filter. Existing alerts start as new.

ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN status_before TEXT NOT NULL DEFAULT 'new';
ALTER TABLE alerts ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN suppressed_until BIGINT;
ALTER TABLE alerts ADD COLUMN status_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN status_at BIGINT;
CREATE INDEX alerts_status_time ON alerts (status, time);
CREATE INDEX alerts_rule_time ON alerts (rule_id, time);

CREATE TABLE alert_history (
	seq         INTEGER PRIMARY KEY,
	alert_id    TEXT NOT NULL,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	from_status TEXT NOT NULL,
	to_status   TEXT NOT NULL,
	note        TEXT NOT NULL,
	reason      TEXT NOT NULL,
	until       BIGINT
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, seq);

-- The finding's unmapped.entities ("user:alice@example.com", "ip:…"), lower case.
CREATE TABLE alert_entities (
	entity    TEXT NOT NULL,
	alert_seq BIGINT NOT NULL,
	PRIMARY KEY (entity, alert_seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO alert_entities (entity, alert_seq)
	SELECT lower(j.value), a.seq FROM alerts a, json_each(CASE WHEN json_valid(CAST(a.body AS TEXT)) THEN CAST(a.body AS TEXT) ELSE '{}' END, '$.unmapped.entities') j WHERE j.type = 'text';

CREATE TRIGGER alerts_triage_insert AFTER INSERT ON alerts BEGIN
	INSERT OR IGNORE INTO alert_entities (entity, alert_seq)
		SELECT lower(value), new.seq FROM json_each(CASE WHEN json_valid(CAST(new.body AS TEXT)) THEN CAST(new.body AS TEXT) ELSE '{}' END, '$.unmapped.entities') WHERE type = 'text';
END;
CREATE TRIGGER alerts_triage_delete AFTER DELETE ON alerts BEGIN
	DELETE FROM alert_entities WHERE alert_seq = old.seq AND entity IN
		(SELECT lower(value) FROM json_each(CASE WHEN json_valid(CAST(old.body AS TEXT)) THEN CAST(old.body AS TEXT) ELSE '{}' END, '$.unmapped.entities') WHERE type = 'text');
	DELETE FROM alert_history WHERE alert_id = old.id;
END;

-- Response actions (internal/respond): the current state of each action, keyed by its
-- idempotency key, and the append-only audit trail of every step (request, approval, each Okta
-- call with Okta's answer, the read-back). Nothing ever updates a response_audit row (only
-- retention, storage.audit_keep, may delete old ones).

CREATE TABLE response_actions (
	id             TEXT PRIMARY KEY,
	idem_key       TEXT NOT NULL UNIQUE,
	integration_id BIGINT NOT NULL,
	action         TEXT NOT NULL,
	options        TEXT NOT NULL,
	target_user    TEXT NOT NULL,
	user_id        TEXT NOT NULL DEFAULT '',
	requested_by   TEXT NOT NULL,
	mode           TEXT NOT NULL,
	rule_id        TEXT NOT NULL DEFAULT '',
	alert_id       TEXT NOT NULL DEFAULT '',
	reason         TEXT NOT NULL DEFAULT '',
	status         TEXT NOT NULL,
	result         TEXT NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	updated_at     BIGINT NOT NULL
);
CREATE INDEX response_actions_status ON response_actions (status, created_at DESC);
CREATE INDEX response_actions_created ON response_actions (created_at DESC);

CREATE TABLE response_audit (
	seq             INTEGER PRIMARY KEY,
	action_id       TEXT NOT NULL,
	at              BIGINT NOT NULL,
	actor           TEXT NOT NULL,
	kind            TEXT NOT NULL,
	status          TEXT NOT NULL,
	method          TEXT NOT NULL DEFAULT '',
	path            TEXT NOT NULL DEFAULT '',
	query           TEXT NOT NULL DEFAULT '',
	okta_status     INTEGER NOT NULL DEFAULT 0,
	okta_code       TEXT NOT NULL DEFAULT '',
	okta_request_id TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX response_audit_action ON response_audit (action_id, seq);

CREATE TRIGGER response_audit_no_update BEFORE UPDATE ON response_audit
BEGIN SELECT RAISE(ABORT, 'response_audit is append-only'); END;

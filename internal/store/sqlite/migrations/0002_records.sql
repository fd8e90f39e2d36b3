-- Integrations (secrets sealed by internal/secret), health, alerts and sink dead letters.

CREATE TABLE integrations (
	id                INTEGER PRIMARY KEY,
	name              TEXT NOT NULL UNIQUE,
	org_url           TEXT NOT NULL,
	auth_kind         TEXT NOT NULL,
	client_id         TEXT NOT NULL,
	key_id            TEXT NOT NULL,
	scopes            TEXT NOT NULL,
	custom_attributes TEXT NOT NULL,
	enabled           BOOLEAN NOT NULL,
	api_token         BLOB,
	private_key       BLOB,
	dpop_key          BLOB,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE TABLE health (
	integration_id    BIGINT PRIMARY KEY,
	state             TEXT NOT NULL,
	reason            TEXT NOT NULL,
	fix               TEXT NOT NULL,
	last_event_at     BIGINT,
	lag_ns            BIGINT NOT NULL,
	events_collected  BIGINT NOT NULL,
	requests_made     BIGINT NOT NULL,
	budget_share_used DOUBLE PRECISION NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE TABLE alerts (
	seq            INTEGER PRIMARY KEY,
	id             TEXT NOT NULL UNIQUE,
	rule_id        TEXT NOT NULL,
	severity       TEXT NOT NULL,
	time           BIGINT NOT NULL,
	integration_id BIGINT NOT NULL,
	group_key      TEXT NOT NULL,
	body           BLOB NOT NULL,
	stored_at      BIGINT NOT NULL
);
CREATE INDEX alerts_time ON alerts (time);

CREATE TABLE dead_letters (
	id            INTEGER PRIMARY KEY,
	sink          TEXT NOT NULL,
	record_id     TEXT NOT NULL,
	payload       BLOB NOT NULL,
	error         TEXT NOT NULL,
	attempts      BIGINT NOT NULL,
	first_failure BIGINT NOT NULL,
	last_failure  BIGINT NOT NULL,
	leased_until  BIGINT NOT NULL,
	UNIQUE (sink, record_id)
);

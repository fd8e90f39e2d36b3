-- The processor's output and state: normalized records (one per journal entry and schema), and
-- each consumer's private key/value state (detection baselines, watermarks), committed with its
-- offset.

CREATE TABLE records (
	seq            BIGINT NOT NULL,
	schema_name    TEXT NOT NULL,
	integration_id BIGINT NOT NULL,
	class_uid      INTEGER NOT NULL,
	uuid           TEXT NOT NULL,
	time           BIGINT,
	body           BLOB NOT NULL,
	PRIMARY KEY (seq, schema_name)
);

CREATE TABLE consumer_state (
	consumer TEXT NOT NULL,
	key      TEXT NOT NULL,
	value    BLOB NOT NULL,
	PRIMARY KEY (consumer, key)
);

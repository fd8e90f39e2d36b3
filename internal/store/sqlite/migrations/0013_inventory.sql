-- The identity inventory (internal/inventory): one row per Okta user and group of an integration,
-- the user or group as JSON in data; the last full sync per integration; posture findings.

CREATE TABLE inventory_syncs (
	integration_id INTEGER PRIMARY KEY,
	data           BLOB NOT NULL
);

CREATE TABLE inventory_users (
	integration_id INTEGER NOT NULL,
	user_id        TEXT NOT NULL,
	login          TEXT NOT NULL,
	data           BLOB NOT NULL,
	PRIMARY KEY (integration_id, user_id)
);
CREATE INDEX inventory_users_login ON inventory_users (integration_id, login);

CREATE TABLE inventory_groups (
	integration_id INTEGER NOT NULL,
	group_id       TEXT NOT NULL,
	data           BLOB NOT NULL,
	PRIMARY KEY (integration_id, group_id)
);

CREATE TABLE posture_findings (
	integration_id INTEGER NOT NULL,
	finding_id     TEXT NOT NULL,
	data           BLOB NOT NULL,
	PRIMARY KEY (integration_id, finding_id)
);

-- The rulebook: which rules are disabled, and the custom rules uploaded through the API, with a
-- version the processor polls to pick changes up between batches.

CREATE TABLE rule_settings (
	rule_id    TEXT PRIMARY KEY,
	enabled    INTEGER NOT NULL,
	changed_by TEXT NOT NULL,
	changed_at BIGINT NOT NULL
);

CREATE TABLE custom_rules (
	filename    TEXT PRIMARY KEY,
	rule_ids    TEXT NOT NULL,
	body        BLOB NOT NULL,
	tests       BLOB NOT NULL,
	uploaded_by TEXT NOT NULL,
	uploaded_at BIGINT NOT NULL
);

INSERT INTO sequences (name, value) VALUES ('rulebook', 0);

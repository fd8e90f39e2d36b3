-- The identity stream: OCSF records of the identity inventory (User Inventory Info snapshots and
-- changes, posture findings as IAM Analysis Findings), built when the inventory changed, so sinks
-- can deliver them in order from their own offsets. Seqs come from the sequences table.

CREATE TABLE identity_stream (
	seq            INTEGER PRIMARY KEY,
	integration_id INTEGER NOT NULL,
	kind           TEXT NOT NULL,
	uid            TEXT NOT NULL,
	at             BIGINT NOT NULL,
	body           BLOB NOT NULL
);
CREATE INDEX identity_stream_at ON identity_stream (at);

INSERT INTO sequences (name, value) VALUES ('identity', 0);

-- API keys of the REST API server (internal/server). Only the SHA-256 of each key is kept; a
-- revoked key stays (revoked_at set) so that its name is not reused and audit can name it.

CREATE TABLE api_keys (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	role         TEXT NOT NULL,
	key_hash     BLOB NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	revoked_at   BIGINT
);

-- What a consumer last reported about itself (a sink: delivering, retrying, connecting, stopped,
-- and the error behind a retry), so that `idwatch sinks list` in another process can show it.

ALTER TABLE consumers ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE consumers ADD COLUMN status_error TEXT NOT NULL DEFAULT '';
ALTER TABLE consumers ADD COLUMN status_at BIGINT;

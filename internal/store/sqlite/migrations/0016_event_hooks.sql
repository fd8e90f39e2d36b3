-- One Okta event hook per integration: where Okta delivers, the header that authenticates each
-- delivery and its secret (sealed under the master key, bound to the integration), the event
-- types subscribed, and the delivery statistics the receiver records.

CREATE TABLE event_hooks (
	integration_id   BIGINT PRIMARY KEY,
	okta_hook_id     TEXT NOT NULL DEFAULT '',
	url              TEXT NOT NULL,
	header_name      TEXT NOT NULL,
	secret           BLOB NOT NULL,
	event_types      TEXT NOT NULL DEFAULT '[]',
	status           TEXT NOT NULL DEFAULT '',
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	last_delivery_at BIGINT,
	deliveries       BIGINT NOT NULL DEFAULT 0,
	events_received  BIGINT NOT NULL DEFAULT 0,
	per_minute       REAL NOT NULL DEFAULT 0
);

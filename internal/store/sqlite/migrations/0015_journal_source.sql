-- How each journal entry arrived: 'poll' (read from the System Log) or 'push' (delivered by an
-- Okta event hook). The first copy to arrive is kept; the other is a duplicate of (integration,
-- uuid) and inserts nothing, so the column also measures what the hook missed.

ALTER TABLE journal ADD COLUMN source TEXT NOT NULL DEFAULT 'poll';

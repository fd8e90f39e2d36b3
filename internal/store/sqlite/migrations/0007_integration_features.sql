-- The optional features an integration has turned on (JSON list: "inventory", "response"); log
-- collection is always on. The scopes a service app requests derive from them. Existing
-- integrations start with logs only, the least privilege.
ALTER TABLE integrations ADD COLUMN features TEXT NOT NULL DEFAULT '[]';

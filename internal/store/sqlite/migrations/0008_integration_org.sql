-- An integration's org identity and how it is reached: org_id is the id the org publishes at
-- /.well-known/okta-organization (empty until first looked up), so the same org is not added
-- twice under two URLs; custom_domain marks an org URL on the org's custom URL domain; ca_pem is
-- a PEM bundle trusted in addition to the system roots (an inspecting proxy's CA). None is secret.

ALTER TABLE integrations ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
ALTER TABLE integrations ADD COLUMN custom_domain BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE integrations ADD COLUMN ca_pem TEXT NOT NULL DEFAULT '';

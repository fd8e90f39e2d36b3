-- Retention of alerts and dead letters: the trims select by these times.
CREATE INDEX alerts_stored_at ON alerts (stored_at);
CREATE INDEX dead_letters_last_failure ON dead_letters (last_failure);

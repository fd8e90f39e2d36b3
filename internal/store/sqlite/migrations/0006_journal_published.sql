-- The journal in event-time order: the processor re-evaluates correlations over entries that
-- arrived late (a backfill behind live collection) in published order, and `events export
-- --sort published` reads the same order. Ties on published are broken by uuid, then seq, so the
-- order does not depend on arrival.

CREATE INDEX journal_published ON journal (published, uuid);

-- +goose Up
-- A publish job claims its event for a while (claimed_until) before it
-- publishes it: a job that finds the event claimed, or no longer pending,
-- does nothing, and a sweep hands back to the queue the due events whose
-- claim lapsed (the process that held it died). attempts counts the claims
-- and hand-backs.
ALTER TABLE events ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN claimed_until DATETIME;

-- +goose Down
ALTER TABLE events DROP COLUMN claimed_until;
ALTER TABLE events DROP COLUMN attempts;

-- +goose Up
-- What a send could not reach (unknown names, inactive users, groups
-- without active members, users without an e-mail address), as JSON: the
-- sender reads it on the event, also for a scheduled one. '' is none.
ALTER TABLE events ADD COLUMN report TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN report;

-- +goose Up
-- Browser push (migration 00015) is a fifth channel: the kept hours of
-- the console's activity charts count its reach too.
ALTER TABLE activity_hours ADD COLUMN reached_push INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE activity_hours DROP COLUMN reached_push;

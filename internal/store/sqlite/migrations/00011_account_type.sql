-- +goose Up
-- Each person's account type (enDI's notify_account_type): entrepreneur,
-- equipe_appui, hybride (both), or a string of the host's; '' is none.
ALTER TABLE users ADD COLUMN account_type TEXT NOT NULL DEFAULT '';
CREATE INDEX users_account_type ON users (account_type, id);

-- +goose Down
DROP INDEX users_account_type;
ALTER TABLE users DROP COLUMN account_type;

-- +goose Up
-- Whether a person has any setting at all (README, "Preferences"): a
-- fan-out checks a recipient against the exceptions of a type only if
-- they do, so that the many who set nothing cost it nothing more than
-- before preferences. Kept by triggers, whoever writes the settings.
ALTER TABLE users ADD COLUMN has_preferences BOOLEAN NOT NULL DEFAULT 0;
UPDATE users SET has_preferences = 1 WHERE id IN (SELECT user_id FROM preferences);

-- +goose StatementBegin
CREATE TRIGGER preferences_holder_insert AFTER INSERT ON preferences
BEGIN
    UPDATE users SET has_preferences = 1 WHERE id = NEW.user_id AND NOT has_preferences;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER preferences_holder_delete AFTER DELETE ON preferences
BEGIN
    UPDATE users SET has_preferences = 0
    WHERE id = OLD.user_id AND NOT EXISTS (SELECT 1 FROM preferences WHERE user_id = OLD.user_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER preferences_holder_delete;
DROP TRIGGER preferences_holder_insert;
ALTER TABLE users DROP COLUMN has_preferences;

-- +goose Up
-- Whether a person has any setting at all (README, "Preferences"): a
-- fan-out checks a recipient against the exceptions of a type only if
-- they do, so that the many who set nothing cost it nothing more than
-- before preferences. Kept by triggers, whoever writes the settings.
ALTER TABLE users ADD COLUMN has_preferences BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET has_preferences = TRUE WHERE id IN (SELECT user_id FROM preferences);

-- +goose StatementBegin
CREATE FUNCTION preferences_holder() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET has_preferences = TRUE
        WHERE id IN (SELECT DISTINCT user_id FROM new_rows) AND NOT has_preferences;
    ELSE
        UPDATE users u SET has_preferences = FALSE
        WHERE u.id IN (SELECT DISTINCT user_id FROM old_rows) AND u.has_preferences
            AND NOT EXISTS (SELECT 1 FROM preferences p WHERE p.user_id = u.id);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER preferences_holder_insert AFTER INSERT ON preferences
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION preferences_holder();
CREATE TRIGGER preferences_holder_delete AFTER DELETE ON preferences
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION preferences_holder();

-- +goose Down
DROP TRIGGER preferences_holder_delete ON preferences;
DROP TRIGGER preferences_holder_insert ON preferences;
DROP FUNCTION preferences_holder();
ALTER TABLE users DROP COLUMN has_preferences;

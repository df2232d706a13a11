-- +goose Up
-- Preferences per type and channel (README, "Preferences").
--
-- A mandatory type's default channel cannot be turned off. message:system
-- is mandatory as seeded.
ALTER TABLE notification_types ADD COLUMN mandatory BOOLEAN NOT NULL DEFAULT 0;
UPDATE notification_types SET mandatory = 1 WHERE key = 'message:system';

-- Each person's time zone (IANA name; empty: the organisation's), for the
-- quiet hours and digests to come.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';

-- A person's setting: channel on or off for a type (kind 'type', scope its
-- key) or a whole category (kind 'category', scope the key's first
-- segment). No row: the organisation default, else the type's default.
CREATE TABLE preferences (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('type', 'category')),
    scope      TEXT NOT NULL,
    channel    TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, kind, scope, channel)
) WITHOUT ROWID;
-- What a publication asks first: does anybody have a setting for this
-- type or its category, on which channel, on or off.
CREATE INDEX preferences_scope ON preferences (kind, scope, channel, enabled);

-- The organisation defaults: the same shape, for everybody.
CREATE TABLE preference_defaults (
    kind       TEXT NOT NULL CHECK (kind IN ('type', 'category')),
    scope      TEXT NOT NULL,
    channel    TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (kind, scope, channel)
) WITHOUT ROWID;

-- The recipients of an event who got nothing on its channel because of a
-- preference (theirs or the organisation's), for the event's report.
CREATE TABLE preference_skips (
    event_id INTEGER NOT NULL,
    user_id  TEXT NOT NULL,
    channel  TEXT NOT NULL,
    PRIMARY KEY (event_id, channel, user_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE preference_skips;
DROP TABLE preference_defaults;
DROP TABLE preferences;
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE notification_types DROP COLUMN mandatory;

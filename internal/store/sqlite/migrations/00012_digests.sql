-- +goose Up
-- Digests (README, "Preferences"): a person's e-mail frequency, for all
-- their e-mail (category '') or one category, and the e-mails held for
-- the next digest.
--
-- frequency: immediate, hourly, daily (at HH:MM) or weekly (day, at), in
-- the person's time zone. next_at is when the schedule falls due next
-- (NULL: nothing to send, an immediate schedule without held items).
CREATE TABLE digest_settings (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category   TEXT NOT NULL,
    frequency  TEXT NOT NULL CHECK (frequency IN ('immediate', 'hourly', 'daily', 'weekly')),
    at         TEXT NOT NULL DEFAULT '',
    day        TEXT NOT NULL DEFAULT '',
    next_at    DATETIME,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, category)
) WITHOUT ROWID;
-- What a fan-out asks: who holds e-mail of this category (few rows).
CREATE INDEX digest_settings_category ON digest_settings (category, frequency);
-- What the digest job asks: which schedules are due.
CREATE INDEX digest_settings_due ON digest_settings (next_at) WHERE next_at IS NOT NULL;

-- An e-mail held for a digest: the event, the person, and the schedule
-- (digest_settings.category) it waits for. A digest that lists it, or
-- leaves it out, deletes it.
CREATE TABLE digest_items (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event_id   INTEGER NOT NULL,
    category   TEXT NOT NULL,
    schedule   TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX digest_items_pending ON digest_items (user_id, schedule);
CREATE INDEX digest_items_event ON digest_items (event_id);

-- A digest as rendered. Its e-mail is an ordinary delivery whose event_id
-- is the digest's id negated (events' ids are positive), so that
-- (event_id, address) stays unique and the delivery log, retries and
-- failure states are the same as any e-mail's.
CREATE TABLE digests (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL,
    schedule   TEXT NOT NULL,
    items      INTEGER NOT NULL,
    subject    TEXT NOT NULL,
    html       TEXT NOT NULL,
    text       TEXT NOT NULL,
    locale     TEXT NOT NULL,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE digests;
DROP TABLE digest_items;
DROP TABLE digest_settings;

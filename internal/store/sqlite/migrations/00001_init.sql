-- +goose Up
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL DEFAULT '',
    locale      TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT 1,
    follower_id TEXT,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX users_follower_id ON users (follower_id);

CREATE TABLE user_groups (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    PRIMARY KEY (group_name, user_id)
) WITHOUT ROWID;
CREATE INDEX user_groups_user_id ON user_groups (user_id);

CREATE TABLE companies (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT 1,
    updated_at DATETIME NOT NULL
);

CREATE TABLE company_members (
    company_id TEXT NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (company_id, user_id)
) WITHOUT ROWID;
CREATE INDEX company_members_user_id ON company_members (user_id);

CREATE TABLE notification_types (
    key             TEXT PRIMARY KEY,
    label           TEXT NOT NULL,
    default_channel TEXT NOT NULL,
    status_type     TEXT NOT NULL,
    builtin         BOOLEAN NOT NULL DEFAULT 0,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    key           TEXT NOT NULL REFERENCES notification_types (key),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL DEFAULT '',
    due_at        DATETIME,
    until         DATETIME,
    context_type  TEXT NOT NULL DEFAULT '',
    context_id    TEXT NOT NULL DEFAULT '',
    check_url     TEXT NOT NULL DEFAULT '',
    force_channel TEXT NOT NULL DEFAULT '',
    channel       TEXT NOT NULL,
    recipients    TEXT NOT NULL,
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL DEFAULT '',
    counts        TEXT NOT NULL DEFAULT '{}',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    published_at  DATETIME
);
CREATE INDEX events_key ON events (key);
CREATE INDEX events_status ON events (status, id);
CREATE INDEX events_context ON events (context_type, context_id, status) WHERE context_type <> '';

-- One row per recipient user, in-app channel and event. Kept narrow: title
-- and body stay on the event.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    event_id   INTEGER NOT NULL,
    user_id    TEXT NOT NULL,
    channel    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    visible_at DATETIME NOT NULL,
    expires_at DATETIME,
    read_at    DATETIME
);
-- One covering index serves the inbox (newest visible first), unread
-- filters and unread counts: read_at and expires_at are read from it, not
-- from the table. Fan-out inserts pay for this index alone (the read_at one
-- is partial and empty for new rows), which keeps them fast.
CREATE INDEX notifications_inbox ON notifications (user_id, channel, visible_at, id, read_at, expires_at);
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;
CREATE INDEX notifications_expires_at ON notifications (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY,
    event_id     INTEGER NOT NULL,
    user_id      TEXT NOT NULL DEFAULT '',
    company_id   TEXT NOT NULL DEFAULT '',
    address      TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_code    INTEGER NOT NULL DEFAULT 0,
    last_message TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    sent_at      DATETIME,
    UNIQUE (event_id, address)
);
CREATE INDEX deliveries_state ON deliveries (state, id);

-- Seeded notification types (enDI's list).
INSERT INTO notification_types (key, label, default_channel, status_type, builtin, updated_at) VALUES
    ('task:status:valid',               'Document validated',                'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('task:status:invalid',             'Document refused',                  'email',   'invalid',  1, '1970-01-01 00:00:00+00:00'),
    ('task:status:paid',                'Invoice paid',                      'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('task:status:resulted',            'Invoice settled',                   'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('expense:status:valid',            'Expense report validated',          'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('expense:status:invalid',          'Expense report refused',            'email',   'invalid',  1, '1970-01-01 00:00:00+00:00'),
    ('expense:status:paid',             'Expense report paid',               'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('expense:status:resulted',         'Expense report settled',            'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:valid',   'Supplier invoice validated',        'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:invalid', 'Supplier invoice refused',          'email',   'invalid',  1, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:paid',    'Supplier invoice paid',             'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:resulted','Supplier invoice settled',          'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:valid',     'Supplier order validated',          'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:invalid',   'Supplier order refused',            'email',   'invalid',  1, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:paid',      'Supplier order paid',               'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:resulted',  'Supplier order settled',            'email',   'valid',    1, '1970-01-01 00:00:00+00:00'),
    ('message:internal',                'Internal message',                  'message', 'neutral',  1, '1970-01-01 00:00:00+00:00'),
    ('message:system',                  'System message',                    'alert',   'caution',  1, '1970-01-01 00:00:00+00:00'),
    ('userdata:reminder',               'Reminder about a social file',      'message', 'document', 1, '1970-01-01 00:00:00+00:00'),
    ('workshop:reminder',               'Workshop reminder',                 'message', 'calendar', 1, '1970-01-01 00:00:00+00:00'),
    ('activity:reminder',               'Appointment reminder',              'message', 'calendar', 1, '1970-01-01 00:00:00+00:00');

-- +goose Down
DROP TABLE deliveries;
DROP TABLE notifications;
DROP TABLE events;
DROP TABLE notification_types;
DROP TABLE company_members;
DROP TABLE companies;
DROP TABLE user_groups;
DROP TABLE users;

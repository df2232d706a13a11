-- +goose Up
-- Every text column compares bytewise (COLLATE "C"), as SQLite does: ids sort
-- the same on both backends, and index inserts skip locale-aware comparison,
-- which made fan-out a third slower.
CREATE TABLE users (
    id          TEXT COLLATE "C" PRIMARY KEY,
    email       TEXT COLLATE "C" NOT NULL DEFAULT '',
    name        TEXT COLLATE "C" NOT NULL DEFAULT '',
    locale      TEXT COLLATE "C" NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    follower_id TEXT COLLATE "C",
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_follower_id ON users (follower_id);

CREATE TABLE user_groups (
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_name TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_name, user_id)
);
CREATE INDEX user_groups_user_id ON user_groups (user_id);

CREATE TABLE companies (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL,
    email      TEXT COLLATE "C" NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE company_members (
    company_id TEXT COLLATE "C" NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (company_id, user_id)
);
CREATE INDEX company_members_user_id ON company_members (user_id);

CREATE TABLE notification_types (
    key             TEXT COLLATE "C" PRIMARY KEY,
    label           TEXT COLLATE "C" NOT NULL,
    default_channel TEXT COLLATE "C" NOT NULL,
    status_type     TEXT COLLATE "C" NOT NULL,
    builtin         BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           TEXT COLLATE "C" NOT NULL REFERENCES notification_types (key),
    title         TEXT COLLATE "C" NOT NULL,
    body          TEXT COLLATE "C" NOT NULL DEFAULT '',
    due_at        TIMESTAMPTZ,
    until         TIMESTAMPTZ,
    context_type  TEXT COLLATE "C" NOT NULL DEFAULT '',
    context_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    check_url     TEXT COLLATE "C" NOT NULL DEFAULT '',
    force_channel TEXT COLLATE "C" NOT NULL DEFAULT '',
    channel       TEXT COLLATE "C" NOT NULL,
    recipients    TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL,
    status_reason TEXT COLLATE "C" NOT NULL DEFAULT '',
    counts        TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    published_at  TIMESTAMPTZ
);
CREATE INDEX events_key ON events (key);
CREATE INDEX events_status ON events (status, id);
CREATE INDEX events_context ON events (context_type, context_id, status) WHERE context_type <> '';

-- One row per recipient user, in-app channel and event. Kept narrow: title
-- and body stay on the event.
CREATE TABLE notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id   BIGINT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    visible_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    read_at    TIMESTAMPTZ
);
-- One covering index serves the inbox (newest visible first), unread
-- filters and unread counts: read_at and expires_at are read from it, not
-- from the table. Fan-out inserts pay for this index alone (the read_at one
-- is partial and empty for new rows), which keeps them fast.
CREATE INDEX notifications_inbox ON notifications (user_id, channel, visible_at, id, read_at, expires_at);
CREATE INDEX notifications_read_at ON notifications (read_at) WHERE read_at IS NOT NULL;
CREATE INDEX notifications_expires_at ON notifications (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE deliveries (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     BIGINT NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    company_id   TEXT COLLATE "C" NOT NULL DEFAULT '',
    address      TEXT COLLATE "C" NOT NULL,
    state        TEXT COLLATE "C" NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_code    INTEGER NOT NULL DEFAULT 0,
    last_message TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    sent_at      TIMESTAMPTZ,
    UNIQUE (event_id, address)
);
CREATE INDEX deliveries_state ON deliveries (state, id);

-- Seeded notification types (enDI's list).
INSERT INTO notification_types (key, label, default_channel, status_type, builtin, updated_at) VALUES
    ('task:status:valid',               'Document validated',                'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('task:status:invalid',             'Document refused',                  'email',   'invalid',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('task:status:paid',                'Invoice paid',                      'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('task:status:resulted',            'Invoice settled',                   'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('expense:status:valid',            'Expense report validated',          'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('expense:status:invalid',          'Expense report refused',            'email',   'invalid',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('expense:status:paid',             'Expense report paid',               'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('expense:status:resulted',         'Expense report settled',            'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:valid',   'Supplier invoice validated',        'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:invalid', 'Supplier invoice refused',          'email',   'invalid',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:paid',    'Supplier invoice paid',             'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_invoice:status:resulted','Supplier invoice settled',          'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:valid',     'Supplier order validated',          'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:invalid',   'Supplier order refused',            'email',   'invalid',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:paid',      'Supplier order paid',               'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('supplier_order:status:resulted',  'Supplier order settled',            'email',   'valid',    TRUE, '1970-01-01 00:00:00+00:00'),
    ('message:internal',                'Internal message',                  'message', 'neutral',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('message:system',                  'System message',                    'alert',   'caution',  TRUE, '1970-01-01 00:00:00+00:00'),
    ('userdata:reminder',               'Reminder about a social file',      'message', 'document', TRUE, '1970-01-01 00:00:00+00:00'),
    ('workshop:reminder',               'Workshop reminder',                 'message', 'calendar', TRUE, '1970-01-01 00:00:00+00:00'),
    ('activity:reminder',               'Appointment reminder',              'message', 'calendar', TRUE, '1970-01-01 00:00:00+00:00');

-- +goose Down
DROP TABLE deliveries;
DROP TABLE notifications;
DROP TABLE events;
DROP TABLE notification_types;
DROP TABLE company_members;
DROP TABLE companies;
DROP TABLE user_groups;
DROP TABLE users;

-- +goose Up
-- Outgoing webhooks (README, "Webhooks"): outlets an operator defines, each
-- receiving the events whose type matches one of its patterns (and, when
-- set, whose recipients match). Deliveries to an outlet are deliveries of
-- the webhook channel whose target is the outlet's id (00013).
CREATE TABLE webhook_outlets (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    url           TEXT NOT NULL,
    format        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    types         TEXT NOT NULL DEFAULT '[]', -- JSON list of type patterns
    recipients    TEXT NOT NULL DEFAULT '{}', -- JSON store.Recipients subset
    failing_since DATETIME,                   -- every attempt failed since
    last_error    TEXT NOT NULL DEFAULT '',
    paused_at     DATETIME,
    pause_reason  TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

-- +goose Down
DELETE FROM deliveries WHERE channel = 'webhook';
DROP TABLE webhook_outlets;

-- +goose Up
-- Outgoing webhooks (README, "Webhooks"): outlets an operator defines, each
-- receiving the events whose type matches one of its patterns (and, when
-- set, whose recipients match). Deliveries to an outlet are deliveries of
-- the webhook channel whose target is the outlet's id (00013).
CREATE TABLE webhook_outlets (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    url           TEXT NOT NULL,
    format        TEXT NOT NULL,
    secret        TEXT NOT NULL,
    types         TEXT NOT NULL DEFAULT '[]', -- JSON list of type patterns
    recipients    TEXT NOT NULL DEFAULT '{}', -- JSON store.Recipients subset
    failing_since TIMESTAMPTZ,                -- every attempt failed since
    last_error    TEXT NOT NULL DEFAULT '',
    paused_at     TIMESTAMPTZ,
    pause_reason  TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- +goose Down
DELETE FROM deliveries WHERE channel = 'webhook';
DROP TABLE webhook_outlets;

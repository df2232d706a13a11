-- +goose Up
-- PostgreSQL leaves room on each page of events for the outcome an
-- immediate notify writes on its row (its migration 00023); SQLite has no
-- such setting: this keeps the two backends' migrations numbered alike.
SELECT 1;

-- +goose Down
SELECT 1;

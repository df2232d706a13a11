-- +goose Up
-- An immediate notify inserts its event published and then writes its
-- outcome (counts, report) on the same row: with room left on each page,
-- PostgreSQL writes that second version beside the first (a HOT update)
-- instead of adding an entry to each of the events' indexes again.
ALTER TABLE events SET (fillfactor = 80);

-- +goose Down
ALTER TABLE events RESET (fillfactor);

package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// PersonSettingsGet returns a person's time zone, quiet hours and unread delay.
func (q *queries) PersonSettingsGet(ctx context.Context, userID string) (*store.PersonSettings, error) {
	var s store.PersonSettings
	err := q.db.QueryRow(ctx, `SELECT time_zone, quiet_hours, email_if_unread_minutes FROM users WHERE id = $1`, userID).
		Scan(&s.TimeZone, &s.QuietHours, &s.EmailIfUnreadMinutes)
	if err != nil {
		return nil, fmt.Errorf("postgres: person settings get %q: %w", userID, mapErr(err, ""))
	}
	return &s, nil
}

// PersonSettingsSet replaces them.
func (q *queries) PersonSettingsSet(ctx context.Context, userID string, s *store.PersonSettings) error {
	tag, err := q.db.Exec(ctx, `UPDATE users SET time_zone = $1, quiet_hours = $2, email_if_unread_minutes = $3 WHERE id = $4`,
		s.TimeZone, s.QuietHours, s.EmailIfUnreadMinutes, userID)
	if err != nil {
		return fmt.Errorf("postgres: person settings set %q: %w", userID, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: person settings set %q: %w", userID, store.ErrNotFound)
	}
	return nil
}

// TypeSetEmailIfUnread sets a type's unread delay.
func (q *queries) TypeSetEmailIfUnread(ctx context.Context, key string, minutes int) error {
	tag, err := q.db.Exec(ctx, `UPDATE notification_types SET email_if_unread_minutes = $1 WHERE key = $2`, minutes, key)
	if err != nil {
		return fmt.Errorf("postgres: type set email_if_unread %q: %w", key, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: type set email_if_unread %q: %w", key, store.ErrNotFound)
	}
	return nil
}

// DeliveryHoldCandidates: see store.QuietQueries.
func (q *queries) DeliveryHoldCandidates(ctx context.Context, eventID int64, typeMinutes int) ([]store.HoldCandidate, error) {
	query := `SELECT d.id, d.user_id, u.time_zone, u.quiet_hours, u.email_if_unread_minutes,
    EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = d.user_id AND n.event_id = d.event_id)
FROM deliveries d JOIN users u ON u.id = d.user_id
WHERE d.event_id = $1 AND d.state = 'queued' AND d.user_id <> '' AND d.channel = 'email'
    AND (u.quiet_hours <> '' OR u.email_if_unread_minutes > 0 OR (u.email_if_unread_minutes IS NULL AND $2 > 0))
ORDER BY d.id`
	args := []any{eventID, typeMinutes}
	if typeMinutes <= 0 {
		// Only the people with a setting (few, users_holds), each one's
		// delivery found by its address: never the event's every row.
		query = `SELECT d.id, d.user_id, u.time_zone, u.quiet_hours, u.email_if_unread_minutes,
    EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = d.user_id AND n.event_id = d.event_id)
FROM users u JOIN deliveries d ON d.event_id = $1 AND d.address = u.email AND d.user_id = u.id
WHERE (u.quiet_hours <> '' OR u.email_if_unread_minutes > 0) AND d.state = 'queued' AND d.channel = 'email'
ORDER BY d.id`
		args = args[:1]
	}
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery hold candidates: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.HoldCandidate, error) {
		var c store.HoldCandidate
		err := r.Scan(&c.DeliveryID, &c.UserID, &c.TimeZone, &c.QuietHours, &c.EmailIfUnreadMinutes, &c.InApp)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery hold candidates: %w", mapErr(err, ""))
	}
	return out, nil
}

// DeliveryHold gives queued deliveries their not-before time, in one statement.
func (q *queries) DeliveryHold(ctx context.Context, holds []store.DeliveryHoldParams) error {
	if len(holds) == 0 {
		return nil
	}
	ids := make([]int64, len(holds))
	at := make([]time.Time, len(holds))
	reasons := make([]string, len(holds))
	unless := make([]bool, len(holds))
	for i, h := range holds {
		ids[i], at[i], reasons[i], unless[i] = h.ID, ts(h.NotBefore), h.Reason, h.UnlessRead
	}
	_, err := q.db.Exec(ctx, `UPDATE deliveries d SET not_before = h.nb, hold_reason = h.reason, unless_read = h.unless_read
FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::boolean[]) AS h (id, nb, reason, unless_read)
WHERE d.id = h.id AND d.state = 'queued'`, ids, at, reasons, unless)
	if err != nil {
		return fmt.Errorf("postgres: delivery hold: %w", mapErr(err, ""))
	}
	return nil
}

// DeliveryHeldList returns the deliveries of an event still held at now.
func (q *queries) DeliveryHeldList(ctx context.Context, eventID int64, now time.Time, limit int) ([]store.HeldDelivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.db.Query(ctx, `SELECT user_id, address, not_before, hold_reason FROM deliveries
WHERE event_id = $1 AND state = 'queued' AND not_before > $2 AND channel = 'email' ORDER BY user_id COLLATE "C", id LIMIT $3`,
		eventID, ts(now), min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery held list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.HeldDelivery, error) {
		var h store.HeldDelivery
		err := r.Scan(&h.UserID, &h.Address, &h.NotBefore, &h.Reason)
		h.NotBefore = h.NotBefore.UTC()
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery held list: %w", mapErr(err, ""))
	}
	if out == nil {
		out = []store.HeldDelivery{}
	}
	return out, nil
}

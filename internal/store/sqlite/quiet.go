package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func (q *queries) PersonSettingsGet(ctx context.Context, userID string) (*store.PersonSettings, error) {
	var (
		s      store.PersonSettings
		unread sql.NullInt64
	)
	err := q.r.QueryRowContext(ctx, `SELECT time_zone, quiet_hours, email_if_unread_minutes FROM users WHERE id = ?`, userID).
		Scan(&s.TimeZone, &s.QuietHours, &unread)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("person settings get %q", userID), err)
	}
	if unread.Valid {
		n := int(unread.Int64)
		s.EmailIfUnreadMinutes = &n
	}
	return &s, nil
}

func (q *queries) PersonSettingsSet(ctx context.Context, userID string, s *store.PersonSettings) error {
	res, err := q.w.ExecContext(ctx, `UPDATE users SET time_zone = ?, quiet_hours = ?, email_if_unread_minutes = ? WHERE id = ?`,
		s.TimeZone, s.QuietHours, intPtrArg(s.EmailIfUnreadMinutes), userID)
	return affectedOne(res, err, fmt.Sprintf("person settings set %q", userID))
}

func intPtrArg(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func (q *queries) TypeSetEmailIfUnread(ctx context.Context, key string, minutes int) error {
	res, err := q.w.ExecContext(ctx, `UPDATE notification_types SET email_if_unread_minutes = ? WHERE key = ?`, minutes, key)
	return affectedOne(res, err, fmt.Sprintf("type set email_if_unread %q", key))
}

func (q *queries) DeliveryHoldCandidates(ctx context.Context, eventID int64, typeMinutes int) ([]store.HoldCandidate, error) {
	query := `SELECT d.id, d.user_id, u.time_zone, u.quiet_hours, u.email_if_unread_minutes,
			EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = d.user_id AND n.event_id = d.event_id)
		FROM deliveries d JOIN users u ON u.id = d.user_id
		WHERE d.event_id = ? AND d.state = 'queued' AND d.user_id <> '' AND d.channel = 'email'
			AND (u.quiet_hours <> '' OR u.email_if_unread_minutes > 0 OR (u.email_if_unread_minutes IS NULL AND ? > 0))
		ORDER BY d.id`
	args := []any{eventID, typeMinutes}
	if typeMinutes <= 0 {
		// Only the people with a setting (few, users_holds), each one's
		// delivery found by its address: never the event's every row.
		query = `SELECT d.id, d.user_id, u.time_zone, u.quiet_hours, u.email_if_unread_minutes,
			EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = d.user_id AND n.event_id = d.event_id)
		FROM users u CROSS JOIN deliveries d ON d.event_id = ? AND d.address = u.email AND d.user_id = u.id
		WHERE (quiet_hours <> '' OR email_if_unread_minutes > 0) AND d.state = 'queued' AND d.channel = 'email'
		ORDER BY d.id`
		args = args[:1]
	}
	rows, err := q.w.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("delivery hold candidates", err)
	}
	defer rows.Close()
	var out []store.HoldCandidate
	for rows.Next() {
		var (
			c      store.HoldCandidate
			unread sql.NullInt64
		)
		if err := rows.Scan(&c.DeliveryID, &c.UserID, &c.TimeZone, &c.QuietHours, &unread, &c.InApp); err != nil {
			return nil, mapErr("delivery hold candidates", err)
		}
		if unread.Valid {
			n := int(unread.Int64)
			c.EmailIfUnreadMinutes = &n
		}
		out = append(out, c)
	}
	return out, mapErr("delivery hold candidates", rows.Err())
}

type holdJSON struct {
	ID         int64  `json:"id"`
	NotBefore  string `json:"nb"`
	Reason     string `json:"r"`
	UnlessRead bool   `json:"u"`
}

func (q *queries) DeliveryHold(ctx context.Context, holds []store.DeliveryHoldParams) error {
	if len(holds) == 0 {
		return nil
	}
	rows := make([]holdJSON, len(holds))
	for i, h := range holds {
		rows[i] = holdJSON{ID: h.ID, NotBefore: ts(h.NotBefore).Format(sqliteTime), Reason: h.Reason, UnlessRead: h.UnlessRead}
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("sqlite: delivery hold: %w", err)
	}
	_, err = q.w.ExecContext(ctx, `WITH h AS MATERIALIZED (
			SELECT value ->> '$.id' AS id, value ->> '$.nb' AS nb, value ->> '$.r' AS reason, value ->> '$.u' AS unless_read
			FROM json_each(?))
		UPDATE deliveries SET not_before = h.nb, hold_reason = h.reason, unless_read = h.unless_read
		FROM h WHERE deliveries.id IN (SELECT id FROM h) AND deliveries.id = h.id AND deliveries.state = 'queued'`, string(payload))
	return mapErr("delivery hold", err)
}

func (q *queries) DeliveryHeldList(ctx context.Context, eventID int64, now time.Time, limit int) ([]store.HeldDelivery, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT user_id, address, not_before, hold_reason FROM deliveries
		WHERE event_id = ? AND state = 'queued' AND not_before > ? AND channel = 'email' ORDER BY user_id, id LIMIT ?`,
		eventID, ts(now), clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, mapErr("delivery held list", err)
	}
	defer rows.Close()
	out := []store.HeldDelivery{}
	for rows.Next() {
		var h store.HeldDelivery
		if err := rows.Scan(&h.UserID, &h.Address, &h.NotBefore, &h.Reason); err != nil {
			return nil, mapErr("delivery held list", err)
		}
		h.NotBefore = h.NotBefore.UTC()
		out = append(out, h)
	}
	return out, mapErr("delivery held list", rows.Err())
}

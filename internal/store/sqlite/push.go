package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/cloche/cloche/internal/store"
)

const pushColumns = `id, user_id, endpoint, p256dh, auth, created_at`

func (q *queries) PushSubscriptionSave(ctx context.Context, s *store.PushSubscription) error {
	s.CreatedAt = ts(s.CreatedAt)
	err := q.atomic(ctx, func(q *queries) error {
		var one int
		err := q.w.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, s.UserID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.Invalid("user_id", "unknown user %q", s.UserID)
		} else if err != nil {
			return err
		}
		return q.w.QueryRowContext(ctx, `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
				auth = excluded.auth, created_at = excluded.created_at
			RETURNING id`, s.UserID, s.Endpoint, s.P256dh, s.Auth, s.CreatedAt).Scan(&s.ID)
	})
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return err
	}
	return mapErr("push subscription save", err)
}

func (q *queries) PushSubscriptionDelete(ctx context.Context, userID, endpoint string) error {
	res, err := q.w.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?`, userID, endpoint)
	return affectedOne(res, err, "push subscription")
}

func (q *queries) PushSubscriptionRemove(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	b, _ := json.Marshal(ids)
	res, err := q.w.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id IN (SELECT value FROM json_each(?))`, string(b))
	if err != nil {
		return 0, mapErr("push subscription remove", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("push subscription remove", err)
}

func (q *queries) PushSubscriptionList(ctx context.Context, users []string) ([]store.PushSubscription, error) {
	query, args := `SELECT `+pushColumns+` FROM push_subscriptions ORDER BY id`, []any(nil)
	if users != nil {
		query = `SELECT ` + pushColumns + ` FROM push_subscriptions
			WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY id`
		args = []any{jsonList(users)}
	}
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("push subscription list", err)
	}
	defer rows.Close()
	var out []store.PushSubscription
	for rows.Next() {
		var s store.PushSubscription
		if err := rows.Scan(&s.ID, &s.UserID, &s.Endpoint, &s.P256dh, &s.Auth, &s.CreatedAt); err != nil {
			return nil, mapErr("push subscription list", err)
		}
		s.CreatedAt = s.CreatedAt.UTC()
		out = append(out, s)
	}
	return out, mapErr("push subscription list", rows.Err())
}

func (q *queries) PushSubscriptionGet(ctx context.Context, id int64) (*store.PushSubscription, error) {
	var s store.PushSubscription
	err := q.r.QueryRowContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE id = ?`, id).
		Scan(&s.ID, &s.UserID, &s.Endpoint, &s.P256dh, &s.Auth, &s.CreatedAt)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("push subscription %d", id), err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return &s, nil
}

func (q *queries) PushSubscriptionsByID(ctx context.Context, ids []int64) ([]store.PushSubscription, error) {
	b, _ := json.Marshal(ids)
	rows, err := q.r.QueryContext(ctx, `SELECT `+pushColumns+` FROM push_subscriptions
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, string(b))
	if err != nil {
		return nil, mapErr("push subscriptions", err)
	}
	defer rows.Close()
	var out []store.PushSubscription
	for rows.Next() {
		var s store.PushSubscription
		if err := rows.Scan(&s.ID, &s.UserID, &s.Endpoint, &s.P256dh, &s.Auth, &s.CreatedAt); err != nil {
			return nil, mapErr("push subscriptions", err)
		}
		s.CreatedAt = s.CreatedAt.UTC()
		out = append(out, s)
	}
	return out, mapErr("push subscriptions", rows.Err())
}

func (q *queries) PushTargets(ctx context.Context, eventID int64) ([]store.DeliveryRecipient, error) {
	rows, err := q.w.QueryContext(ctx, `SELECT s.user_id, s.id FROM notifications n
		JOIN push_subscriptions s ON s.user_id = n.user_id
		WHERE n.event_id = ? AND n.channel = 'push' ORDER BY s.user_id, s.id`, eventID)
	if err != nil {
		return nil, mapErr("push targets", err)
	}
	defer rows.Close()
	var out []store.DeliveryRecipient
	for rows.Next() {
		var (
			r  store.DeliveryRecipient
			id int64
		)
		if err := rows.Scan(&r.UserID, &id); err != nil {
			return nil, mapErr("push targets", err)
		}
		r.Target, r.Reason = strconv.FormatInt(id, 10), "subscription"
		out = append(out, r)
	}
	return out, mapErr("push targets", rows.Err())
}

func (q *queries) PushNotificationIDs(ctx context.Context, eventID int64, users []string) (map[string]int64, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT user_id, id FROM notifications
		WHERE event_id = ? AND channel = 'push' AND user_id IN (SELECT value FROM json_each(?))`, eventID, jsonList(users))
	if err != nil {
		return nil, mapErr("push notifications", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			u  string
			id int64
		)
		if err := rows.Scan(&u, &id); err != nil {
			return nil, mapErr("push notifications", err)
		}
		out[u] = id
	}
	return out, mapErr("push notifications", rows.Err())
}

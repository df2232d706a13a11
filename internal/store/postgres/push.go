package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

const pushColumns = `id, user_id, endpoint, p256dh, auth, created_at`

func (q *queries) PushSubscriptionSave(ctx context.Context, s *store.PushSubscription) error {
	s.CreatedAt = ts(s.CreatedAt)
	err := q.atomic(ctx, func(q *queries) error {
		var one int
		err := q.db.QueryRow(ctx, `SELECT 1 FROM users WHERE id = $1`, s.UserID).Scan(&one)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.Invalid("user_id", "unknown user %q", s.UserID)
		} else if err != nil {
			return mapErr(err, "")
		}
		return mapErr(q.db.QueryRow(ctx, `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
				auth = excluded.auth, created_at = excluded.created_at
			RETURNING id`, s.UserID, s.Endpoint, s.P256dh, s.Auth, s.CreatedAt).Scan(&s.ID), "user_id")
	})
	var fe *store.FieldError
	if err != nil && !errors.As(err, &fe) {
		return fmt.Errorf("postgres: push subscription save: %w", err)
	}
	return err
}

func (q *queries) PushSubscriptionDelete(ctx context.Context, userID, endpoint string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2`, userID, endpoint)
	if err != nil {
		return fmt.Errorf("postgres: push subscription delete: %w", mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: push subscription: %w", store.ErrNotFound)
	}
	return nil
}

func (q *queries) PushSubscriptionRemove(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := q.db.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = ANY($1)`, ids)
	if err != nil {
		return 0, fmt.Errorf("postgres: push subscription remove: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

func (q *queries) PushSubscriptionList(ctx context.Context, users []string) ([]store.PushSubscription, error) {
	query, args := `SELECT `+pushColumns+` FROM push_subscriptions ORDER BY id`, []any(nil)
	if users != nil {
		query = `SELECT ` + pushColumns + ` FROM push_subscriptions WHERE user_id = ANY($1::text[]) ORDER BY id`
		args = []any{users}
	}
	rows, err := q.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscription list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, scanPushSubscription)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscription list: %w", mapErr(err, ""))
	}
	return out, nil
}

func scanPushSubscription(row pgx.CollectableRow) (store.PushSubscription, error) {
	var s store.PushSubscription
	err := row.Scan(&s.ID, &s.UserID, &s.Endpoint, &s.P256dh, &s.Auth, &s.CreatedAt)
	s.CreatedAt = s.CreatedAt.UTC()
	return s, err
}

func (q *queries) PushSubscriptionGet(ctx context.Context, id int64) (*store.PushSubscription, error) {
	rows, err := q.db.Query(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscription %d: %w", id, mapErr(err, ""))
	}
	s, err := pgx.CollectExactlyOneRow(rows, scanPushSubscription)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscription %d: %w", id, mapErr(err, ""))
	}
	return &s, nil
}

func (q *queries) PushSubscriptionsByID(ctx context.Context, ids []int64) ([]store.PushSubscription, error) {
	rows, err := q.db.Query(ctx, `SELECT `+pushColumns+` FROM push_subscriptions WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscriptions: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, scanPushSubscription)
	if err != nil {
		return nil, fmt.Errorf("postgres: push subscriptions: %w", mapErr(err, ""))
	}
	return out, nil
}

func (q *queries) PushTargets(ctx context.Context, eventID int64) ([]store.DeliveryRecipient, error) {
	rows, err := q.db.Query(ctx, `SELECT s.user_id, s.id FROM notifications n
		JOIN push_subscriptions s ON s.user_id = n.user_id
		WHERE n.event_id = $1 AND n.channel = 'push' ORDER BY s.user_id, s.id`, eventID)
	if err != nil {
		return nil, fmt.Errorf("postgres: push targets: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.DeliveryRecipient, error) {
		var (
			r  store.DeliveryRecipient
			id int64
		)
		err := row.Scan(&r.UserID, &id)
		r.Target, r.Reason = strconv.FormatInt(id, 10), "subscription"
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: push targets: %w", mapErr(err, ""))
	}
	return out, nil
}

func (q *queries) PushNotificationIDs(ctx context.Context, eventID int64, users []string) (map[string]int64, error) {
	rows, err := q.db.Query(ctx, `SELECT user_id, id FROM notifications
		WHERE event_id = $1 AND channel = 'push' AND user_id = ANY($2::text[])`, eventID, users)
	if err != nil {
		return nil, fmt.Errorf("postgres: push notifications: %w", mapErr(err, ""))
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var (
			u  string
			id int64
		)
		if err := rows.Scan(&u, &id); err != nil {
			return nil, fmt.Errorf("postgres: push notifications: %w", mapErr(err, ""))
		}
		out[u] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: push notifications: %w", mapErr(err, ""))
	}
	return out, nil
}

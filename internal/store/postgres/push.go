package postgres

import (
	"context"
	"errors"
	"fmt"

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

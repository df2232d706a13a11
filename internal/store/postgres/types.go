package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// TypeUpsert creates or replaces notification type t. Builtin is kept as it
// was for an existing type and false for a new one; t.Builtin is set to the
// stored value. UpdatedAt is set to now when zero.
func (q *queries) TypeUpsert(ctx context.Context, t *store.NotificationType) error {
	if t.Key == "" {
		return fmt.Errorf("postgres: type upsert: %w", store.Invalid("key", "must not be empty"))
	}
	updated := tsOrNow(t.UpdatedAt)
	var builtin bool
	err := q.db.QueryRow(ctx, `
INSERT INTO notification_types (key, label, default_channel, status_type, builtin, updated_at)
VALUES ($1, $2, $3, $4, FALSE, $5)
ON CONFLICT (key) DO UPDATE SET
    label = EXCLUDED.label,
    default_channel = EXCLUDED.default_channel,
    status_type = EXCLUDED.status_type,
    updated_at = EXCLUDED.updated_at
RETURNING builtin, mandatory, email_if_unread_minutes`,
		t.Key, t.Label, string(t.DefaultChannel), string(t.StatusType), updated).Scan(&builtin, &t.Mandatory, &t.EmailIfUnreadMinutes)
	if err != nil {
		return fmt.Errorf("postgres: type upsert %q: %w", t.Key, mapErr(err, "key"))
	}
	t.Builtin = builtin
	t.UpdatedAt = updated
	return nil
}

const typeColumns = `key, label, default_channel, status_type, builtin, updated_at, mandatory, email_if_unread_minutes`

func scanType(row pgx.Row) (store.NotificationType, error) {
	var t store.NotificationType
	err := row.Scan(&t.Key, &t.Label, &t.DefaultChannel, &t.StatusType, &t.Builtin, &t.UpdatedAt, &t.Mandatory, &t.EmailIfUnreadMinutes)
	t.UpdatedAt = t.UpdatedAt.UTC()
	return t, err
}

// TypeGet returns the notification type of key.
func (q *queries) TypeGet(ctx context.Context, key string) (*store.NotificationType, error) {
	t, err := scanType(q.db.QueryRow(ctx, `SELECT `+typeColumns+` FROM notification_types WHERE key = $1`, key))
	if err != nil {
		return nil, fmt.Errorf("postgres: type get %q: %w", key, mapErr(err, ""))
	}
	return &t, nil
}

// TypeList returns every notification type, ordered by key.
func (q *queries) TypeList(ctx context.Context) ([]store.NotificationType, error) {
	rows, err := q.db.Query(ctx, `SELECT `+typeColumns+` FROM notification_types ORDER BY key COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("postgres: type list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.NotificationType, error) {
		return scanType(r)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: type list: %w", mapErr(err, ""))
	}
	return out, nil
}

// TypeDelete deletes the notification type of key; it refuses with
// store.ErrInUse, saying how many, when events use it.
func (q *queries) TypeDelete(ctx context.Context, key string) error {
	err := q.atomic(ctx, func(q *queries) error {
		var n int64
		if err := q.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE key = $1`, key).Scan(&n); err != nil {
			return mapErr(err, "")
		}
		if n > 0 {
			return store.TypeInUse(key, int(n))
		}
		tag, err := q.db.Exec(ctx, `DELETE FROM notification_types WHERE key = $1`, key)
		if err != nil {
			return mapErr(err, "")
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: type delete %q: %w", key, err)
	}
	return nil
}

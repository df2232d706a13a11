package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

const webhookColumns = `id, name, url, format, secret, types, recipients, failing_since, last_error,
    paused_at, pause_reason, created_at, updated_at`

func scanWebhook(row pgx.Row) (store.WebhookOutlet, error) {
	var (
		o                 store.WebhookOutlet
		types, recipients string
	)
	if err := row.Scan(&o.ID, &o.Name, &o.URL, &o.Format, &o.Secret, &types, &recipients, &o.FailingSince, &o.LastError,
		&o.PausedAt, &o.PauseReason, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return o, err
	}
	if err := store.UnmarshalWebhookFilters(types, recipients, &o); err != nil {
		return o, err
	}
	o.FailingSince, o.PausedAt = utcPtr(o.FailingSince), utcPtr(o.PausedAt)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

// WebhookInsert stores an outlet; see store.WebhookQueries.
func (q *queries) WebhookInsert(ctx context.Context, o *store.WebhookOutlet) error {
	types, recipients := store.MarshalWebhookFilters(o)
	now := ts(time.Now())
	err := q.db.QueryRow(ctx, `INSERT INTO webhook_outlets (name, url, format, secret, types, recipients, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, o.Name, o.URL, o.Format, o.Secret, types, recipients, now).Scan(&o.ID)
	if err != nil {
		return fmt.Errorf("postgres: webhook insert: %w", mapErr(err, ""))
	}
	o.CreatedAt, o.UpdatedAt = now, now
	return nil
}

// WebhookList returns every outlet.
func (q *queries) WebhookList(ctx context.Context) ([]store.WebhookOutlet, error) {
	rows, err := q.db.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_outlets ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: webhook list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WebhookOutlet, error) { return scanWebhook(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: webhook list: %w", mapErr(err, ""))
	}
	if out == nil {
		out = []store.WebhookOutlet{}
	}
	return out, nil
}

// WebhookGet returns one outlet.
func (q *queries) WebhookGet(ctx context.Context, id int64) (*store.WebhookOutlet, error) {
	o, err := scanWebhook(q.db.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhook_outlets WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: webhook get %d: %w", id, mapErr(err, ""))
	}
	return &o, nil
}

// WebhookDelete removes an outlet.
func (q *queries) WebhookDelete(ctx context.Context, id int64) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM webhook_outlets WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: webhook delete %d: %w", id, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: webhook delete %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// WebhookSetPaused pauses or resumes an outlet.
func (q *queries) WebhookSetPaused(ctx context.Context, id int64, at *time.Time, reason string) error {
	now := ts(time.Now())
	var err error
	var n int64
	if at == nil {
		tag, e := q.db.Exec(ctx, `UPDATE webhook_outlets SET paused_at = NULL, pause_reason = '', failing_since = NULL,
    updated_at = $1 WHERE id = $2`, now, id)
		err, n = e, tag.RowsAffected()
	} else {
		tag, e := q.db.Exec(ctx, `UPDATE webhook_outlets SET paused_at = $1, pause_reason = $2, updated_at = $3
WHERE id = $4`, ts(*at), reason, now, id)
		err, n = e, tag.RowsAffected()
	}
	if err != nil {
		return fmt.Errorf("postgres: webhook pause %d: %w", id, mapErr(err, ""))
	}
	if n == 0 {
		return fmt.Errorf("postgres: webhook pause %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// WebhookAttempts records attempts' outcomes and pauses the outlets that
// failed for the whole window.
func (q *queries) WebhookAttempts(ctx context.Context, p *store.WebhookAttemptsParams) ([]int64, error) {
	at := ts(p.At)
	var paused []int64
	err := q.atomic(ctx, func(q *queries) error {
		if len(p.OK) > 0 {
			if _, err := q.db.Exec(ctx, `UPDATE webhook_outlets SET failing_since = NULL, last_error = ''
WHERE id = ANY($1::bigint[]) AND failing_since IS NOT NULL`, p.OK); err != nil {
				return fmt.Errorf("postgres: webhook attempts: %w", mapErr(err, ""))
			}
		}
		failed := slices.DeleteFunc(slices.Clone(p.Failed), func(id int64) bool { return slices.Contains(p.OK, id) })
		if len(failed) == 0 {
			return nil
		}
		errs := make([]string, len(failed))
		for i, id := range failed {
			errs[i] = p.Errors[id]
		}
		if _, err := q.db.Exec(ctx, `UPDATE webhook_outlets o SET failing_since = coalesce(o.failing_since, $1), last_error = f.err
FROM unnest($2::bigint[], $3::text[]) AS f (id, err) WHERE o.id = f.id`, at, failed, errs); err != nil {
			return fmt.Errorf("postgres: webhook attempts: %w", mapErr(err, ""))
		}
		rows, err := q.db.Query(ctx, `UPDATE webhook_outlets SET paused_at = $1, updated_at = $1, pause_reason = $4 || last_error
WHERE id = ANY($2::bigint[]) AND paused_at IS NULL AND failing_since <= $3 RETURNING id`,
			at, failed, ts(p.At.Add(-p.Window)), store.PauseReason(p.Window))
		if err != nil {
			return fmt.Errorf("postgres: webhook attempts: %w", mapErr(err, ""))
		}
		paused, err = pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("postgres: webhook attempts: %w", mapErr(err, ""))
		}
		return nil
	})
	return paused, err
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cloche/cloche/internal/store"
)

const webhookColumns = `id, name, url, format, secret, types, recipients, failing_since, last_error,
	paused_at, pause_reason, created_at, updated_at`

func scanWebhook(row interface{ Scan(...any) error }) (store.WebhookOutlet, error) {
	var (
		o                 store.WebhookOutlet
		types, recipients string
		failing, pausedAt sql.NullTime
	)
	if err := row.Scan(&o.ID, &o.Name, &o.URL, &o.Format, &o.Secret, &types, &recipients, &failing, &o.LastError,
		&pausedAt, &o.PauseReason, &o.CreatedAt, &o.UpdatedAt); err != nil {
		return o, err
	}
	if err := store.UnmarshalWebhookFilters(types, recipients, &o); err != nil {
		return o, err
	}
	o.FailingSince, o.PausedAt = timePtr(failing), timePtr(pausedAt)
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	return o, nil
}

func (q *queries) WebhookInsert(ctx context.Context, o *store.WebhookOutlet) error {
	types, recipients := store.MarshalWebhookFilters(o)
	now := ts(time.Now())
	err := q.w.QueryRowContext(ctx, `INSERT INTO webhook_outlets (name, url, format, secret, types, recipients, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.Name, o.URL, o.Format, o.Secret, types, recipients, now, now).Scan(&o.ID)
	if err != nil {
		return mapErr("webhook insert", err)
	}
	o.CreatedAt, o.UpdatedAt = now, now
	return nil
}

func (q *queries) WebhookList(ctx context.Context) ([]store.WebhookOutlet, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhook_outlets ORDER BY id`)
	if err != nil {
		return nil, mapErr("webhook list", err)
	}
	defer rows.Close()
	out := []store.WebhookOutlet{}
	for rows.Next() {
		o, err := scanWebhook(rows)
		if err != nil {
			return nil, mapErr("webhook list", err)
		}
		out = append(out, o)
	}
	return out, mapErr("webhook list", rows.Err())
}

func (q *queries) WebhookGet(ctx context.Context, id int64) (*store.WebhookOutlet, error) {
	o, err := scanWebhook(q.r.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhook_outlets WHERE id = ?`, id))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("webhook get %d", id), err)
	}
	return &o, nil
}

func (q *queries) WebhookDelete(ctx context.Context, id int64) error {
	res, err := q.w.ExecContext(ctx, `DELETE FROM webhook_outlets WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("webhook delete %d", id))
}

func (q *queries) WebhookSetPaused(ctx context.Context, id int64, at *time.Time, reason string) error {
	now := ts(time.Now())
	var (
		res sql.Result
		err error
	)
	if at == nil {
		res, err = q.w.ExecContext(ctx, `UPDATE webhook_outlets SET paused_at = NULL, pause_reason = '',
			failing_since = NULL, updated_at = ? WHERE id = ?`, now, id)
	} else {
		res, err = q.w.ExecContext(ctx, `UPDATE webhook_outlets SET paused_at = ?, pause_reason = ?, updated_at = ?
			WHERE id = ?`, ts(*at), reason, now, id)
	}
	return affectedOne(res, err, fmt.Sprintf("webhook pause %d", id))
}

func (q *queries) WebhookAttempts(ctx context.Context, p *store.WebhookAttemptsParams) ([]int64, error) {
	at := ts(p.At)
	var paused []int64
	err := q.atomic(ctx, func(q *queries) error {
		if len(p.OK) > 0 {
			ids, _ := json.Marshal(p.OK)
			if _, err := q.w.ExecContext(ctx, `UPDATE webhook_outlets SET failing_since = NULL, last_error = ''
				WHERE id IN (SELECT value FROM json_each(?)) AND failing_since IS NOT NULL`, string(ids)); err != nil {
				return mapErr("webhook attempts", err)
			}
		}
		failed := slices.DeleteFunc(slices.Clone(p.Failed), func(id int64) bool { return slices.Contains(p.OK, id) })
		if len(failed) == 0 {
			return nil
		}
		type failure struct {
			ID  int64  `json:"id"`
			Err string `json:"e"`
		}
		fs := make([]failure, len(failed))
		for i, id := range failed {
			fs[i] = failure{ID: id, Err: p.Errors[id]}
		}
		list, err := json.Marshal(fs)
		if err != nil {
			return fmt.Errorf("sqlite: webhook attempts: %w", err)
		}
		// One statement for the batch's failures; the rows to change are
		// found by id (see DeliveryRecord).
		if _, err := q.w.ExecContext(ctx, `WITH f AS MATERIALIZED (
				SELECT value ->> '$.id' AS id, value ->> '$.e' AS err FROM json_each(?2))
			UPDATE webhook_outlets SET failing_since = coalesce(webhook_outlets.failing_since, ?1), last_error = f.err
			FROM f WHERE webhook_outlets.id IN (SELECT id FROM f) AND webhook_outlets.id = f.id`,
			at, string(list)); err != nil {
			return mapErr("webhook attempts", err)
		}
		ids, _ := json.Marshal(failed)
		rows, err := q.w.QueryContext(ctx, `UPDATE webhook_outlets SET paused_at = ?1, updated_at = ?1,
				pause_reason = ?4 || last_error
			WHERE id IN (SELECT value FROM json_each(?2)) AND paused_at IS NULL AND failing_since <= ?3
			RETURNING id`, at, string(ids), ts(p.At.Add(-p.Window)), store.PauseReason(p.Window))
		if err != nil {
			return mapErr("webhook attempts", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return mapErr("webhook attempts", err)
			}
			paused = append(paused, id)
		}
		return mapErr("webhook attempts", rows.Err())
	})
	return paused, err
}

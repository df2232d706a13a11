package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// Savepoint implements store.Tx: pgx runs a transaction begun inside a
// transaction as a savepoint.
func (t *Tx) Savepoint(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	sub, err := t.tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: savepoint: %w", mapErr(err, ""))
	}
	if err := fn(ctx, &Tx{queries: queries{db: sub, inTx: true, feed: t.feed}, tx: sub}); err != nil {
		if rbErr := sub.Rollback(context.WithoutCancel(ctx)); rbErr != nil {
			return errors.Join(err, fmt.Errorf("postgres: rollback to savepoint: %w", mapErr(rbErr, "")))
		}
		return err
	}
	if err := sub.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: release savepoint: %w", mapErr(err, ""))
	}
	return nil
}

const apiKeyColumns = `id, name, prefix, hash, created_at, last_used_at, revoked_at`

func scanAPIKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &k.LastUsedAt, &k.RevokedAt)
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsedAt, k.RevokedAt = utcPtr(k.LastUsedAt), utcPtr(k.RevokedAt)
	return k, err
}

// APIKeyInsert stores k and sets its ID and CreatedAt (now when zero).
func (q *queries) APIKeyInsert(ctx context.Context, k *store.APIKey) error {
	created := tsOrNow(k.CreatedAt)
	err := q.db.QueryRow(ctx, `INSERT INTO api_keys (name, prefix, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		k.Name, k.Prefix, k.Hash, created).Scan(&k.ID)
	if err != nil {
		return fmt.Errorf("postgres: api key insert %q: %w", k.Name, mapErr(err, ""))
	}
	k.CreatedAt = created
	return nil
}

// APIKeyList returns every key by id.
func (q *queries) APIKeyList(ctx context.Context) ([]store.APIKey, error) {
	rows, err := q.db.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: api key list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: api key list: %w", mapErr(err, ""))
	}
	return out, nil
}

// APIKeyGetByHash returns the key of hash.
func (q *queries) APIKeyGetByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("postgres: api key get: %w", mapErr(err, ""))
	}
	return &k, nil
}

// APIKeyGet returns key id.
func (q *queries) APIKeyGet(ctx context.Context, id int64) (*store.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: api key %d: %w", id, mapErr(err, ""))
	}
	return &k, nil
}

// APIKeyRevoke revokes key id.
func (q *queries) APIKeyRevoke(ctx context.Context, id int64, at time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, ts(at))
	if err != nil {
		return fmt.Errorf("postgres: api key revoke %d: %w", id, mapErr(err, ""))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: api key revoke %d: %w", id, mapErr(err, ""))
	}
	if !exists {
		return fmt.Errorf("postgres: api key revoke %d: %w", id, store.ErrNotFound)
	}
	return store.Errorf(store.ErrConflict, "API key %d is already revoked", id)
}

// APIKeyTouch records that key id was used.
func (q *queries) APIKeyTouch(ctx context.Context, id int64, at time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, ts(at))
	if err != nil {
		return fmt.Errorf("postgres: api key touch %d: %w", id, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: api key touch %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// SettingInit stores value under name unless one is stored, and returns
// the stored value.
func (q *queries) SettingInit(ctx context.Context, name, value string) (string, error) {
	var out string
	// The CTE sees the database as it was before the statement; the UNION
	// reads the row this statement inserted, or the one already there.
	err := q.db.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO settings (name, value, created_at) VALUES ($1, $2, $3)
    ON CONFLICT (name) DO NOTHING
    RETURNING value
)
SELECT value FROM ins
UNION ALL
SELECT value FROM settings WHERE name = $1
LIMIT 1`, name, value, ts(time.Now())).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another transaction inserted the row after this statement's
		// snapshot was taken: a new statement sees it.
		err = q.db.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&out)
	}
	if err != nil {
		return "", fmt.Errorf("postgres: setting %q: %w", name, mapErr(err, ""))
	}
	return out, nil
}

// IdempotencyClaim claims p's key unless a live record holds it. Two
// transactions claiming one key at once: the second waits for the first
// and then sees its record.
func (q *queries) IdempotencyClaim(ctx context.Context, p *store.IdempotencyClaimParams) (*store.IdempotencyRecord, error) {
	r := p.Record
	var claimed bool
	err := q.db.QueryRow(ctx, `
INSERT INTO idempotency_keys (scope, key, fingerprint, result, created_at)
VALUES ($1, $2, $3, '', $4)
ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, result = '',
    created_at = EXCLUDED.created_at
WHERE idempotency_keys.created_at < $5
RETURNING true`, r.Scope, r.Key, r.Fingerprint, ts(r.CreatedAt), ts(p.ExpiredBefore)).Scan(&claimed)
	if err == nil {
		return nil, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: idempotency claim: %w", mapErr(err, ""))
	}
	prev := &store.IdempotencyRecord{}
	err = q.db.QueryRow(ctx, `SELECT scope, key, fingerprint, result, created_at FROM idempotency_keys
WHERE scope = $1 AND key = $2`, r.Scope, r.Key).Scan(&prev.Scope, &prev.Key, &prev.Fingerprint, &prev.Result, &prev.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: idempotency claim: %w", mapErr(err, ""))
	}
	prev.CreatedAt = prev.CreatedAt.UTC()
	return prev, nil
}

// IdempotencyComplete stores the result of a claimed record.
func (q *queries) IdempotencyComplete(ctx context.Context, r *store.IdempotencyRecord) error {
	tag, err := q.db.Exec(ctx, `UPDATE idempotency_keys SET result = $3 WHERE scope = $1 AND key = $2`,
		r.Scope, r.Key, r.Result)
	if err != nil {
		return fmt.Errorf("postgres: idempotency complete: %w", mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: idempotency complete %q: %w", r.Key, store.ErrNotFound)
	}
	return nil
}

// IdempotencyPurge deletes records created before before.
func (q *queries) IdempotencyPurge(ctx context.Context, before time.Time) (int, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, ts(before))
	if err != nil {
		return 0, fmt.Errorf("postgres: idempotency purge: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// UserList returns a page of users ordered by id.
func (q *queries) UserList(ctx context.Context, p *store.UserListParams) ([]store.User, error) {
	var w where
	if p.Group != "" {
		w.add("u.id IN (SELECT user_id FROM user_groups WHERE group_name = ?)", p.Group)
	}
	if p.CompanyID != "" {
		w.add("u.id IN (SELECT user_id FROM company_members WHERE company_id = ?)", p.CompanyID)
	}
	if p.AfterID != "" {
		w.add("u.id > ?", p.AfterID)
	}
	sql := userSelect + w.sql() + ` ORDER BY u.id LIMIT ` + w.arg(limit(p.Limit, 100, 1000))
	rows, err := q.db.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: user list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: user list: %w", mapErr(err, ""))
	}
	return out, nil
}

// GroupList returns every group with members, by name.
func (q *queries) GroupList(ctx context.Context) ([]store.Group, error) {
	rows, err := q.db.Query(ctx, `SELECT group_name, count(*) FROM user_groups GROUP BY group_name ORDER BY group_name`)
	if err != nil {
		return nil, fmt.Errorf("postgres: group list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Group, error) {
		var g store.Group
		err := r.Scan(&g.Name, &g.Members)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: group list: %w", mapErr(err, ""))
	}
	return out, nil
}

// GroupSetMembers makes p.UserIDs exactly the members of p.Group.
func (q *queries) GroupSetMembers(ctx context.Context, p *store.GroupSetMembersParams) error {
	ids := store.Dedupe(p.UserIDs)
	err := q.atomic(ctx, func(q *queries) error {
		if len(ids) > 0 {
			rows, err := q.db.Query(ctx, `SELECT id FROM users WHERE id = ANY($1)`, ids)
			if err != nil {
				return mapErr(err, "")
			}
			known, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return mapErr(err, "")
			}
			var missing []string
			for _, id := range ids {
				if !slices.Contains(known, id) {
					missing = append(missing, fmt.Sprintf("%q", id))
				}
			}
			if len(missing) > 0 {
				return store.Invalid("user_ids", "unknown user %s", strings.Join(missing, ", "))
			}
		}
		if _, err := q.db.Exec(ctx, `DELETE FROM user_groups WHERE group_name = $1 AND NOT (user_id = ANY($2))`,
			p.Group, ids); err != nil {
			return mapErr(err, "")
		}
		_, err := q.db.Exec(ctx, `INSERT INTO user_groups (user_id, group_name)
SELECT u, $1 FROM unnest($2::text[]) AS u ON CONFLICT DO NOTHING`, p.Group, ids)
		return mapErr(err, "user_ids")
	})
	if err != nil {
		return fmt.Errorf("postgres: group set members %q: %w", p.Group, err)
	}
	return nil
}

// GroupDelete removes every member of group.
func (q *queries) GroupDelete(ctx context.Context, group string) (int, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM user_groups WHERE group_name = $1`, group)
	if err != nil {
		return 0, fmt.Errorf("postgres: group delete %q: %w", group, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return 0, fmt.Errorf("postgres: group delete %q: %w", group, store.ErrNotFound)
	}
	return int(tag.RowsAffected()), nil
}

// Stats computes monitoring figures.
func (q *queries) MonitorStats(ctx context.Context, now time.Time) (*store.MonitorStats, error) {
	st := &store.MonitorStats{DeliveriesByState: store.ZeroStates()}
	rows, err := q.db.Query(ctx, `SELECT channel, state, count(*) FROM deliveries GROUP BY channel, state`)
	if err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", mapErr(err, ""))
	}
	var (
		channel, state string
		n              int
	)
	if _, err := pgx.ForEachRow(rows, []any{&channel, &state, &n}, func() error {
		st.CountDeliveries(channel, state, n)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", mapErr(err, ""))
	}
	if err := q.db.QueryRow(ctx, `SELECT min(due_at) FROM events WHERE status = 'pending' AND due_at <= $1`,
		ts(now)).Scan(&st.OldestOverdue); err != nil {
		return nil, fmt.Errorf("postgres: stats: %w", mapErr(err, ""))
	}
	st.OldestOverdue = utcPtr(st.OldestOverdue)
	return st, nil
}

// DeliveryStates counts the deliveries of event eventID per state.
func (q *queries) DeliveryStates(ctx context.Context, eventID int64) (map[store.DeliveryState]int, error) {
	return q.deliveryCounts(ctx, "delivery states", `SELECT state, count(*) FROM deliveries WHERE event_id = $1 GROUP BY state`, eventID)
}

// deliveryCounts runs a (state, count) query; every state is in the
// answer, at 0 when the query has no row for it.
func (q *queries) deliveryCounts(ctx context.Context, what, sql string, args ...any) (map[store.DeliveryState]int, error) {
	out := map[store.DeliveryState]int{}
	for _, s := range store.DeliveryStates {
		out[s] = 0
	}
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, mapErr(err, ""))
	}
	var (
		state string
		n     int
	)
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		out[store.DeliveryState(state)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, mapErr(err, ""))
	}
	return out, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Savepoint implements store.Tx. Nested savepoints share one name: SQLite
// releases and rolls back to the most recent of a name, and a constant
// statement is prepared once.
func (t *Tx) Savepoint(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	if _, err := t.w.ExecContext(ctx, "SAVEPOINT sp"); err != nil {
		return mapErr("savepoint", err)
	}
	if err := fn(ctx, t); err != nil {
		// ROLLBACK TO leaves the savepoint open; RELEASE closes it.
		bg := context.WithoutCancel(ctx)
		if _, rbErr := t.w.ExecContext(bg, "ROLLBACK TO sp"); rbErr != nil {
			return errors.Join(err, mapErr("rollback to savepoint", rbErr))
		}
		if _, rbErr := t.w.ExecContext(bg, "RELEASE sp"); rbErr != nil {
			return errors.Join(err, mapErr("release savepoint", rbErr))
		}
		return err
	}
	if _, err := t.w.ExecContext(ctx, "RELEASE sp"); err != nil {
		return mapErr("release savepoint", err)
	}
	return nil
}

const apiKeyColumns = `id, name, prefix, hash, created_at, last_used_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var (
		k             store.APIKey
		used, revoked sql.NullTime
	)
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &k.CreatedAt, &used, &revoked)
	k.CreatedAt = k.CreatedAt.UTC()
	k.LastUsedAt, k.RevokedAt = timePtr(used), timePtr(revoked)
	return k, err
}

func (q *queries) APIKeyInsert(ctx context.Context, k *store.APIKey) error {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = ts(k.CreatedAt)
	err := q.w.QueryRowContext(ctx, `INSERT INTO api_keys (name, prefix, hash, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		k.Name, k.Prefix, k.Hash, k.CreatedAt).Scan(&k.ID)
	if err != nil {
		return mapErr(fmt.Sprintf("api key insert %q", k.Name), err)
	}
	return nil
}

func (q *queries) APIKeyList(ctx context.Context) ([]store.APIKey, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys ORDER BY id`)
	if err != nil {
		return nil, mapErr("api key list", err)
	}
	defer rows.Close()
	out := []store.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, mapErr("api key list", err)
		}
		out = append(out, k)
	}
	return out, mapErr("api key list", rows.Err())
}

func (q *queries) APIKeyGetByHash(ctx context.Context, hash string) (*store.APIKey, error) {
	k, err := scanAPIKey(q.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash))
	if err != nil {
		return nil, mapErr("api key get", err)
	}
	return &k, nil
}

func (q *queries) APIKeyGet(ctx context.Context, id int64) (*store.APIKey, error) {
	k, err := scanAPIKey(q.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("api key %d", id), err)
	}
	return &k, nil
}

func (q *queries) APIKeyRevoke(ctx context.Context, id int64, at time.Time) error {
	return q.atomic(ctx, func(q *queries) error {
		var revoked sql.NullTime
		err := q.w.QueryRowContext(ctx, `SELECT revoked_at FROM api_keys WHERE id = ?`, id).Scan(&revoked)
		if err != nil {
			return mapErr(fmt.Sprintf("api key revoke %d", id), err)
		}
		if revoked.Valid {
			return store.Errorf(store.ErrConflict, "API key %d is already revoked", id)
		}
		_, err = q.w.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, ts(at), id)
		return mapErr(fmt.Sprintf("api key revoke %d", id), err)
	})
}

func (q *queries) APIKeyTouch(ctx context.Context, id int64, at time.Time) error {
	res, err := q.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, ts(at), id)
	return affectedOne(res, err, fmt.Sprintf("api key %d", id))
}

func (q *queries) SettingInit(ctx context.Context, name, value string) (string, error) {
	var out string
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.w.ExecContext(ctx, `INSERT INTO settings (name, value, created_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO NOTHING`, name, value, ts(time.Now())); err != nil {
			return err
		}
		return q.w.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&out)
	})
	return out, mapErr(fmt.Sprintf("setting %q", name), err)
}

func (q *queries) IdempotencyClaim(ctx context.Context, p *store.IdempotencyClaimParams) (*store.IdempotencyRecord, error) {
	r := p.Record
	var prev *store.IdempotencyRecord
	err := q.atomic(ctx, func(q *queries) error {
		// Claimed when inserted, or when the stored record had expired and
		// is replaced; otherwise the live record is the answer.
		var one int
		err := q.w.QueryRowContext(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, result, created_at)
			VALUES (?, ?, ?, '', ?)
			ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, result = '',
				created_at = excluded.created_at
			WHERE idempotency_keys.created_at < ?
			RETURNING 1`, r.Scope, r.Key, r.Fingerprint, ts(r.CreatedAt), ts(p.ExpiredBefore)).Scan(&one)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		prev = &store.IdempotencyRecord{}
		err = q.w.QueryRowContext(ctx, `SELECT scope, key, fingerprint, result, created_at FROM idempotency_keys
			WHERE scope = ? AND key = ?`, r.Scope, r.Key).Scan(&prev.Scope, &prev.Key, &prev.Fingerprint, &prev.Result, &prev.CreatedAt)
		prev.CreatedAt = prev.CreatedAt.UTC()
		return err
	})
	if err != nil {
		return nil, mapErr("idempotency claim", err)
	}
	return prev, nil
}

func (q *queries) IdempotencyComplete(ctx context.Context, r *store.IdempotencyRecord) error {
	res, err := q.w.ExecContext(ctx, `UPDATE idempotency_keys SET result = ? WHERE scope = ? AND key = ?`,
		r.Result, r.Scope, r.Key)
	return affectedOne(res, err, fmt.Sprintf("idempotency key %q", r.Key))
}

func (q *queries) IdempotencyPurge(ctx context.Context, before time.Time) (int, error) {
	res, err := q.w.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, ts(before))
	if err != nil {
		return 0, mapErr("idempotency purge", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("idempotency purge", err)
}

// userListSelect reads users with their groups and companies as JSON arrays.
const userListSelect = `SELECT u.id, u.email, u.name, u.locale, u.active, coalesce(u.follower_id, ''), u.account_type, u.updated_at, u.time_zone,
		(SELECT json_group_array(group_name) FROM (SELECT group_name FROM user_groups WHERE user_id = u.id ORDER BY group_name)),
		(SELECT json_group_array(company_id) FROM (SELECT company_id FROM company_members WHERE user_id = u.id ORDER BY company_id))
	FROM users u`

func (q *queries) UserList(ctx context.Context, p *store.UserListParams) ([]store.User, error) {
	var (
		where []string
		args  []any
	)
	if p.Group != "" {
		where = append(where, `u.id IN (SELECT user_id FROM user_groups WHERE group_name = ?)`)
		args = append(args, p.Group)
	}
	if p.CompanyID != "" {
		where = append(where, `u.id IN (SELECT user_id FROM company_members WHERE company_id = ?)`)
		args = append(args, p.CompanyID)
	}
	if p.AfterID != "" {
		where = append(where, `u.id > ?`)
		args = append(args, p.AfterID)
	}
	query := userListSelect
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY u.id LIMIT ?"
	args = append(args, clampLimit(p.Limit, 100, 1000))
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("user list", err)
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		var (
			u                 store.User
			groups, companies string
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &u.FollowerID, &u.AccountType, &u.UpdatedAt, &u.TimeZone,
			&groups, &companies); err != nil {
			return nil, mapErr("user list", err)
		}
		u.UpdatedAt = u.UpdatedAt.UTC()
		u.Groups, u.Companies = []string{}, []string{}
		if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
			return nil, fmt.Errorf("sqlite: user list: groups of %q: %w", u.ID, err)
		}
		if err := json.Unmarshal([]byte(companies), &u.Companies); err != nil {
			return nil, fmt.Errorf("sqlite: user list: companies of %q: %w", u.ID, err)
		}
		out = append(out, u)
	}
	return out, mapErr("user list", rows.Err())
}

func (q *queries) GroupList(ctx context.Context) ([]store.Group, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT group_name, count(*) FROM user_groups GROUP BY group_name ORDER BY group_name`)
	if err != nil {
		return nil, mapErr("group list", err)
	}
	defer rows.Close()
	out := []store.Group{}
	for rows.Next() {
		var g store.Group
		if err := rows.Scan(&g.Name, &g.Members); err != nil {
			return nil, mapErr("group list", err)
		}
		out = append(out, g)
	}
	return out, mapErr("group list", rows.Err())
}

func (q *queries) GroupSetMembers(ctx context.Context, p *store.GroupSetMembersParams) error {
	ids := store.Dedupe(p.UserIDs)
	return q.atomic(ctx, func(q *queries) error {
		if len(ids) > 0 {
			known, err := scanStrings(q.w.QueryContext(ctx,
				`SELECT id FROM users WHERE id IN (SELECT value FROM json_each(?))`, jsonList(ids)))
			if err != nil {
				return mapErr("group set members", err)
			}
			var missing []string
			for _, id := range ids {
				if !slices.Contains(known, id) {
					missing = append(missing, fmt.Sprintf("%q", id))
				}
			}
			if len(missing) > 0 {
				return fmt.Errorf("sqlite: group set members: %w",
					store.Invalid("user_ids", "unknown user %s", strings.Join(missing, ", ")))
			}
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM user_groups WHERE group_name = ?
			AND user_id NOT IN (SELECT value FROM json_each(?))`, p.Group, jsonList(ids)); err != nil {
			return mapErr("group set members", err)
		}
		if _, err := q.w.ExecContext(ctx, `INSERT OR IGNORE INTO user_groups (user_id, group_name)
			SELECT value, ? FROM json_each(?)`, p.Group, jsonList(ids)); err != nil {
			return mapErr("group set members", err)
		}
		return nil
	})
}

func (q *queries) GroupDelete(ctx context.Context, group string) (int, error) {
	res, err := q.w.ExecContext(ctx, `DELETE FROM user_groups WHERE group_name = ?`, group)
	if err != nil {
		return 0, mapErr("group delete", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr("group delete", err)
	}
	if n == 0 {
		return 0, fmt.Errorf("sqlite: group delete %q: %w", group, store.ErrNotFound)
	}
	return int(n), nil
}

func (q *queries) MonitorStats(ctx context.Context, now time.Time) (*store.MonitorStats, error) {
	st := &store.MonitorStats{DeliveriesByState: store.ZeroStates()}
	rows, err := q.r.QueryContext(ctx, `SELECT channel, state, count(*) FROM deliveries GROUP BY channel, state`)
	if err != nil {
		return nil, mapErr("stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			channel, state string
			n              int
		)
		if err := rows.Scan(&channel, &state, &n); err != nil {
			return nil, mapErr("stats", err)
		}
		st.CountDeliveries(channel, state, n)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("stats", err)
	}
	// ORDER BY … LIMIT 1 rather than min(): the column keeps its DATETIME
	// type, which the driver reads as a time.
	var oldest time.Time
	err = q.r.QueryRowContext(ctx, `SELECT due_at FROM events WHERE status = 'pending' AND due_at <= ?
		ORDER BY due_at LIMIT 1`, ts(now)).Scan(&oldest)
	switch {
	case err == nil:
		oldest = oldest.UTC()
		st.OldestOverdue = &oldest
	case !errors.Is(err, sql.ErrNoRows):
		return nil, mapErr("stats", err)
	}
	return st, nil
}

func (q *queries) DeliveryStates(ctx context.Context, eventID int64) (map[store.DeliveryState]int, error) {
	return q.deliveryCounts(ctx, "delivery states", `SELECT state, count(*) FROM deliveries WHERE event_id = ? GROUP BY state`, eventID)
}

// deliveryCounts runs a (state, count) query; every state is in the
// answer, at 0 when the query has no row for it.
func (q *queries) deliveryCounts(ctx context.Context, what, query string, args ...any) (map[store.DeliveryState]int, error) {
	out := map[store.DeliveryState]int{}
	for _, s := range store.DeliveryStates {
		out[s] = 0
	}
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, mapErr(what, err)
		}
		out[store.DeliveryState(state)] = n
	}
	return out, mapErr(what, rows.Err())
}

// affectedOne maps an update that matched no row to ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return mapErr(what, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

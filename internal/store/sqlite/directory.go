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

// dbtx is what both *sql.DB and *sql.Tx offer.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries implements store.Queries. Outside a transaction r is the read pool
// and w the writer; inside one both are the transaction.
type queries struct {
	r, w  dbtx
	inTx  bool
	begin func(context.Context) (*sql.Tx, error)
	stmts *stmtCache // the writer's prepared statements
}

// atomic runs fn in the current transaction, or in a new one.
func (q *queries) atomic(ctx context.Context, fn func(q *queries) error) error {
	if q.inTx {
		return fn(q)
	}
	tx, err := q.begin(ctx)
	if err != nil {
		return err
	}
	defer q.stmts.prepareMissed(context.WithoutCancel(ctx))
	txq := txStmts{tx: tx, c: q.stmts}
	if err := fn(&queries{r: txq, w: txq, inTx: true, stmts: q.stmts}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapErr("commit", err)
	}
	return nil
}

// jsonList encodes ids for json_each(?), which stands in for an IN list.
func jsonList(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func (q *queries) UserUpsert(ctx context.Context, u *store.User) error {
	return q.atomic(ctx, func(q *queries) error {
		if u.FollowerID != "" {
			var one int
			err := q.w.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, u.FollowerID).Scan(&one)
			if err == sql.ErrNoRows {
				return fmt.Errorf("sqlite: user upsert: %w", store.Invalid("follower_id", "user %q does not exist", u.FollowerID))
			} else if err != nil {
				return mapErr("user upsert", err)
			}
		}
		if len(u.Companies) > 0 {
			known, err := scanStrings(q.w.QueryContext(ctx,
				`SELECT id FROM companies WHERE id IN (SELECT value FROM json_each(?))`, jsonList(u.Companies)))
			if err != nil {
				return mapErr("user upsert", err)
			}
			for _, c := range u.Companies {
				if !slices.Contains(known, c) {
					return fmt.Errorf("sqlite: user upsert: %w", store.Invalid("companies", "company %q does not exist", c))
				}
			}
		}
		if u.UpdatedAt.IsZero() {
			u.UpdatedAt = time.Now()
		}
		u.UpdatedAt = ts(u.UpdatedAt)
		var follower any
		if u.FollowerID != "" {
			follower = u.FollowerID
		}
		if _, err := q.w.ExecContext(ctx, `
			INSERT INTO users (id, email, name, locale, active, follower_id, account_type, updated_at, time_zone)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name,
				locale = excluded.locale, active = excluded.active,
				follower_id = excluded.follower_id, account_type = excluded.account_type,
				updated_at = excluded.updated_at,
				time_zone = CASE WHEN excluded.time_zone = '' THEN users.time_zone ELSE excluded.time_zone END`,
			u.ID, u.Email, u.Name, u.Locale, u.Active, follower, u.AccountType, u.UpdatedAt, u.TimeZone); err != nil {
			return mapErr("user upsert", err)
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM user_groups WHERE user_id = ?`, u.ID); err != nil {
			return mapErr("user upsert groups", err)
		}
		if len(u.Groups) > 0 {
			if _, err := q.w.ExecContext(ctx, `INSERT OR IGNORE INTO user_groups (user_id, group_name)
				SELECT ?, value FROM json_each(?)`, u.ID, jsonList(u.Groups)); err != nil {
				return mapErr("user upsert groups", err)
			}
		}
		if _, err := q.w.ExecContext(ctx, `DELETE FROM company_members WHERE user_id = ?`, u.ID); err != nil {
			return mapErr("user upsert companies", err)
		}
		if len(u.Companies) > 0 {
			if _, err := q.w.ExecContext(ctx, `INSERT OR IGNORE INTO company_members (company_id, user_id)
				SELECT value, ? FROM json_each(?)`, u.ID, jsonList(u.Companies)); err != nil {
				return mapErr("user upsert companies", err)
			}
		}
		return nil
	})
}

func (q *queries) UserGet(ctx context.Context, id string) (*store.User, error) {
	u := store.User{Groups: []string{}, Companies: []string{}}
	var follower sql.NullString
	err := q.r.QueryRowContext(ctx, `SELECT id, email, name, locale, active, follower_id, account_type, updated_at, time_zone
		FROM users WHERE id = ?`, id).Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &follower, &u.AccountType, &u.UpdatedAt, &u.TimeZone)
	if err != nil {
		return nil, mapErr("user get", err)
	}
	u.FollowerID = follower.String
	u.UpdatedAt = u.UpdatedAt.UTC()
	if u.Groups, err = scanStrings(q.r.QueryContext(ctx,
		`SELECT group_name FROM user_groups WHERE user_id = ? ORDER BY group_name`, id)); err != nil {
		return nil, mapErr("user get groups", err)
	}
	if u.Companies, err = scanStrings(q.r.QueryContext(ctx,
		`SELECT company_id FROM company_members WHERE user_id = ? ORDER BY company_id`, id)); err != nil {
		return nil, mapErr("user get companies", err)
	}
	return &u, nil
}

func (q *queries) UserDelete(ctx context.Context, id string) error {
	return q.atomic(ctx, func(q *queries) error {
		res, err := q.w.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
		if err != nil {
			return mapErr("user delete", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: user delete %q: %w", id, store.ErrNotFound)
		}
		if _, err := q.w.ExecContext(ctx, `UPDATE users SET follower_id = NULL WHERE follower_id = ?`, id); err != nil {
			return mapErr("user delete", err)
		}
		return nil
	})
}

func (q *queries) UserContacts(ctx context.Context, ids []string) ([]store.Contact, error) {
	return scanContacts(q.r.QueryContext(ctx, `SELECT id, email, active FROM users
		WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`, jsonList(ids)))
}

func (q *queries) GroupContacts(ctx context.Context, groups []string) ([]store.Contact, error) {
	return scanContacts(q.r.QueryContext(ctx, `SELECT id, email, active FROM users
		WHERE active AND id IN (SELECT user_id FROM user_groups WHERE group_name IN (SELECT value FROM json_each(?)))
		ORDER BY id`, jsonList(groups)))
}

func (q *queries) GroupsActive(ctx context.Context, groups []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(groups) == 0 {
		return out, nil
	}
	rows, err := q.r.QueryContext(ctx, `SELECT g.value, EXISTS (SELECT 1 FROM user_groups m JOIN users u ON u.id = m.user_id
			WHERE m.group_name = g.value AND u.active)
		FROM json_each(?) g
		WHERE EXISTS (SELECT 1 FROM user_groups m WHERE m.group_name = g.value)`, jsonList(groups))
	if err != nil {
		return nil, mapErr("groups active", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name   string
			active bool
		)
		if err := rows.Scan(&name, &active); err != nil {
			return nil, mapErr("groups active", err)
		}
		out[name] = active
	}
	return out, mapErr("groups active", rows.Err())
}

func (q *queries) CompanyContacts(ctx context.Context, companyID string) ([]store.Contact, error) {
	return scanContacts(q.r.QueryContext(ctx, `SELECT u.id, u.email, u.active FROM users u
		JOIN company_members m ON m.user_id = u.id
		JOIN companies c ON c.id = m.company_id
		WHERE m.company_id = ? AND u.active AND c.active ORDER BY u.id`, companyID))
}

func (q *queries) CompanyUpsert(ctx context.Context, c *store.Company) error {
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = time.Now()
	}
	c.UpdatedAt = ts(c.UpdatedAt)
	_, err := q.w.ExecContext(ctx, `INSERT INTO companies (id, name, email, active, updated_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email,
			active = excluded.active, updated_at = excluded.updated_at`,
		c.ID, c.Name, c.Email, c.Active, c.UpdatedAt)
	return mapErr("company upsert", err)
}

func (q *queries) CompanyGet(ctx context.Context, id string) (*store.Company, error) {
	var c store.Company
	err := q.r.QueryRowContext(ctx, `SELECT id, name, email, active, updated_at FROM companies WHERE id = ?`, id).
		Scan(&c.ID, &c.Name, &c.Email, &c.Active, &c.UpdatedAt)
	if err != nil {
		return nil, mapErr("company get", err)
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

func (q *queries) CompanyDelete(ctx context.Context, id string) error {
	res, err := q.w.ExecContext(ctx, `DELETE FROM companies WHERE id = ?`, id)
	if err != nil {
		return mapErr("company delete", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sqlite: company delete %q: %w", id, store.ErrNotFound)
	}
	return nil
}

func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func scanContacts(rows *sql.Rows, err error) ([]store.Contact, error) {
	if err != nil {
		return nil, mapErr("contacts", err)
	}
	defer rows.Close()
	var out []store.Contact
	for rows.Next() {
		var c store.Contact
		if err := rows.Scan(&c.UserID, &c.Email, &c.Active); err != nil {
			return nil, mapErr("contacts", err)
		}
		out = append(out, c)
	}
	return out, mapErr("contacts", rows.Err())
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// The snapshot of a sync is loaded into temporary tables of the writer's
// connection (kept between syncs, emptied after each, so that prepared
// statements stay valid), then compared with the directory by set
// operations.
var syncTables = []string{
	`CREATE TEMP TABLE IF NOT EXISTS sync_companies (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL,
		active BOOLEAN NOT NULL) WITHOUT ROWID`,
	`CREATE TEMP TABLE IF NOT EXISTS sync_users (id TEXT PRIMARY KEY, ord INTEGER NOT NULL, email TEXT NOT NULL,
		name TEXT NOT NULL, locale TEXT NOT NULL, active BOOLEAN NOT NULL, follower_id TEXT, account_type TEXT NOT NULL,
		time_zone TEXT NOT NULL) WITHOUT ROWID`,
	`CREATE TEMP TABLE IF NOT EXISTS sync_groups (user_id TEXT NOT NULL, group_name TEXT NOT NULL,
		PRIMARY KEY (user_id, group_name)) WITHOUT ROWID`,
	`CREATE TEMP TABLE IF NOT EXISTS sync_members (user_id TEXT NOT NULL, company_id TEXT NOT NULL,
		PRIMARY KEY (user_id, company_id)) WITHOUT ROWID`,
	`CREATE TEMP TABLE IF NOT EXISTS sync_new (id TEXT PRIMARY KEY) WITHOUT ROWID`,
	`CREATE TEMP TABLE IF NOT EXISTS sync_changed (id TEXT PRIMARY KEY) WITHOUT ROWID`,
}

var syncEmpty = []string{`DELETE FROM temp.sync_companies`, `DELETE FROM temp.sync_users`, `DELETE FROM temp.sync_groups`,
	`DELETE FROM temp.sync_members`, `DELETE FROM temp.sync_new`, `DELETE FROM temp.sync_changed`}

// DirectorySync implements store.SyncQueries.
func (q *queries) DirectorySync(ctx context.Context, p *store.DirectorySyncParams) (*store.DirectorySyncResult, error) {
	res := &store.DirectorySyncResult{}
	at := ts(p.At)
	err := q.atomic(ctx, func(q *queries) error {
		for _, stmt := range append(syncTables, syncEmpty...) {
			if _, err := q.w.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		defer func() {
			for _, stmt := range syncEmpty {
				_, _ = q.w.ExecContext(context.WithoutCancel(ctx), stmt)
			}
		}()
		if p.SyncCompanies {
			if err := q.syncCompanies(ctx, p.Companies, at, &res.Companies); err != nil {
				return err
			}
		}
		if p.SyncUsers {
			return q.syncUsers(ctx, p, at, &res.Users)
		}
		return nil
	})
	if err != nil {
		return nil, mapErr("directory sync", err)
	}
	return res, nil
}

func (q *queries) exec(ctx context.Context, query string, args ...any) (int, error) {
	r, err := q.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

func (q *queries) syncCompanies(ctx context.Context, cs []*store.Company, at any, c *store.DirectorySyncCounts) error {
	rows := make([][]any, len(cs))
	for i, co := range cs {
		rows[i] = []any{co.ID, co.Name, co.Email, co.Active}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	if _, err := q.w.ExecContext(ctx, `INSERT INTO temp.sync_companies (id, name, email, active)
		SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?)`, string(b)); err != nil {
		return err
	}
	if c.Created, err = q.exec(ctx, `INSERT INTO companies (id, name, email, active, updated_at)
		SELECT s.id, s.name, s.email, s.active, ? FROM temp.sync_companies s
		WHERE NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = s.id)`, at); err != nil {
		return err
	}
	if c.Updated, err = q.exec(ctx, `UPDATE companies SET name = s.name, email = s.email, active = s.active, updated_at = ?
		FROM temp.sync_companies s
		WHERE s.id = companies.id AND (companies.name IS NOT s.name OR companies.email IS NOT s.email OR companies.active IS NOT s.active)`, at); err != nil {
		return err
	}
	if c.Deactivated, err = q.exec(ctx, `UPDATE companies SET active = 0, updated_at = ?
		WHERE active AND id NOT IN (SELECT id FROM temp.sync_companies)`, at); err != nil {
		return err
	}
	c.Unchanged = len(cs) - c.Created - c.Updated
	return nil
}

func (q *queries) syncUsers(ctx context.Context, p *store.DirectorySyncParams, at any, c *store.DirectorySyncCounts) error {
	users := make([]any, 0, 9*len(p.Users))
	var groups, members []any
	for i, u := range p.Users {
		var follower any
		if u.FollowerID != "" {
			follower = u.FollowerID
		}
		users = append(users, u.ID, i, u.Email, u.Name, u.Locale, u.Active, follower, u.AccountType, u.TimeZone)
		for _, g := range u.Groups {
			groups = append(groups, u.ID, g)
		}
		for _, co := range u.Companies {
			members = append(members, u.ID, co)
		}
	}
	if err := q.insertRows(ctx, `INSERT INTO temp.sync_users (id, ord, email, name, locale, active, follower_id, account_type, time_zone) VALUES `, 9, users); err != nil {
		return err
	}
	if err := q.insertRows(ctx, `INSERT OR IGNORE INTO temp.sync_groups (user_id, group_name) VALUES `, 2, groups); err != nil {
		return err
	}
	if err := q.insertRows(ctx, `INSERT OR IGNORE INTO temp.sync_members (user_id, company_id) VALUES `, 2, members); err != nil {
		return err
	}
	if err := q.syncReferences(ctx); err != nil {
		return err
	}
	// ?1 is the time of the changes.
	steps := []struct {
		query string
		n     *int
	}{
		{`INSERT INTO temp.sync_new (id) SELECT s.id FROM temp.sync_users s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.id)`, &c.Created},
		// Existing people whose fields, groups or companies differ.
		{`INSERT OR IGNORE INTO temp.sync_changed (id)
			SELECT s.id FROM temp.sync_users s JOIN users u ON u.id = s.id
				WHERE u.email IS NOT s.email OR u.name IS NOT s.name OR u.locale IS NOT s.locale OR u.active IS NOT s.active
					OR u.follower_id IS NOT s.follower_id OR u.account_type IS NOT s.account_type
					OR (s.time_zone <> '' AND u.time_zone IS NOT s.time_zone)
			UNION SELECT user_id FROM (SELECT user_id, group_name FROM temp.sync_groups
				EXCEPT SELECT g.user_id, g.group_name FROM user_groups g JOIN temp.sync_users s ON s.id = g.user_id)
			UNION SELECT user_id FROM (SELECT g.user_id, g.group_name FROM user_groups g JOIN temp.sync_users s ON s.id = g.user_id
				EXCEPT SELECT user_id, group_name FROM temp.sync_groups)
			UNION SELECT user_id FROM (SELECT user_id, company_id FROM temp.sync_members
				EXCEPT SELECT m.user_id, m.company_id FROM company_members m JOIN temp.sync_users s ON s.id = m.user_id)
			UNION SELECT user_id FROM (SELECT m.user_id, m.company_id FROM company_members m JOIN temp.sync_users s ON s.id = m.user_id
				EXCEPT SELECT user_id, company_id FROM temp.sync_members)`, nil},
		{`DELETE FROM temp.sync_changed WHERE id IN (SELECT id FROM temp.sync_new)`, nil},
		{`INSERT INTO users (id, email, name, locale, active, follower_id, account_type, time_zone, updated_at)
			SELECT s.id, s.email, s.name, s.locale, s.active, s.follower_id, s.account_type, s.time_zone, ?1
			FROM temp.sync_users s WHERE s.id IN (SELECT id FROM temp.sync_new)`, nil},
		{`UPDATE users SET email = s.email, name = s.name, locale = s.locale, active = s.active,
				follower_id = s.follower_id, account_type = s.account_type,
				time_zone = CASE WHEN s.time_zone = '' THEN users.time_zone ELSE s.time_zone END, updated_at = ?1
			FROM temp.sync_users s WHERE s.id = users.id AND users.id IN (SELECT id FROM temp.sync_changed)`, &c.Updated},
		{`DELETE FROM user_groups WHERE user_id IN (SELECT id FROM temp.sync_changed)`, nil},
		{`DELETE FROM company_members WHERE user_id IN (SELECT id FROM temp.sync_changed)`, nil},
		{`INSERT INTO user_groups (user_id, group_name) SELECT user_id, group_name FROM temp.sync_groups
			WHERE user_id IN (SELECT id FROM temp.sync_changed UNION ALL SELECT id FROM temp.sync_new)`, nil},
		{`INSERT INTO company_members (company_id, user_id) SELECT company_id, user_id FROM temp.sync_members
			WHERE user_id IN (SELECT id FROM temp.sync_changed UNION ALL SELECT id FROM temp.sync_new)`, nil},
		{`UPDATE users SET active = 0, updated_at = ?1 WHERE active AND id NOT IN (SELECT id FROM temp.sync_users)`, &c.Deactivated},
	}
	for _, st := range steps {
		var args []any
		if strings.Contains(st.query, "?1") {
			args = []any{at}
		}
		n, err := q.exec(ctx, st.query, args...)
		if err != nil {
			return err
		}
		if st.n != nil {
			*st.n = n
		}
	}
	c.Unchanged = len(p.Users) - c.Created - c.Updated
	return nil
}

// syncBatch is how many rows one INSERT of a sync's load takes: bound
// parameters, far cheaper than extracting the values from JSON.
const syncBatch = 500

// insertRows inserts args, width values a row, with prefix ("INSERT …
// VALUES "), syncBatch rows a statement.
func (q *queries) insertRows(ctx context.Context, prefix string, width int, args []any) error {
	row := "(?" + strings.Repeat(", ?", width-1) + ")"
	var full string
	for len(args) > 0 {
		n := min(len(args)/width, syncBatch)
		query := full
		if n < syncBatch || full == "" {
			query = prefix + row + strings.Repeat(", "+row, n-1)
			if n == syncBatch {
				full = query
			}
		}
		if _, err := q.w.ExecContext(ctx, query, args[:n*width]...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}

// syncReferences refuses a follower or company that is neither in the
// snapshot nor in the directory, naming the first row that names one.
func (q *queries) syncReferences(ctx context.Context) error {
	var (
		ord int
		id  string
	)
	err := q.w.QueryRowContext(ctx, `SELECT s.ord, s.follower_id FROM temp.sync_users s
		WHERE s.follower_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM temp.sync_users f WHERE f.id = s.follower_id)
			AND NOT EXISTS (SELECT 1 FROM users f WHERE f.id = s.follower_id)
		ORDER BY s.ord LIMIT 1`).Scan(&ord, &id)
	switch {
	case err == nil:
		return store.Invalid(fmt.Sprintf("users[%d].follower_id", ord), "user %q is neither in the snapshot nor in the directory", id)
	case err != sql.ErrNoRows:
		return err
	}
	err = q.w.QueryRowContext(ctx, `SELECT s.ord, m.company_id FROM temp.sync_members m JOIN temp.sync_users s ON s.id = m.user_id
		WHERE NOT EXISTS (SELECT 1 FROM temp.sync_companies c WHERE c.id = m.company_id)
			AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = m.company_id)
		ORDER BY s.ord LIMIT 1`).Scan(&ord, &id)
	switch {
	case err == nil:
		return store.Invalid(fmt.Sprintf("users[%d].companies", ord), "company %q is neither in the snapshot nor in the directory", id)
	case err != sql.ErrNoRows:
		return err
	}
	return nil
}

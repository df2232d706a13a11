package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// The snapshot of a sync is copied (COPY) into temporary tables dropped at
// commit, analysed, then compared with the directory by set operations.
const syncTables = `
CREATE TEMP TABLE sync_companies (id TEXT COLLATE "C" PRIMARY KEY, name TEXT COLLATE "C" NOT NULL,
    email TEXT COLLATE "C" NOT NULL, active BOOLEAN NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE sync_users (id TEXT COLLATE "C" PRIMARY KEY, ord INTEGER NOT NULL, email TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL, locale TEXT COLLATE "C" NOT NULL, active BOOLEAN NOT NULL,
    follower_id TEXT COLLATE "C", account_type TEXT COLLATE "C" NOT NULL, time_zone TEXT COLLATE "C" NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE sync_groups (user_id TEXT COLLATE "C" NOT NULL, group_name TEXT COLLATE "C" NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE sync_members (user_id TEXT COLLATE "C" NOT NULL, company_id TEXT COLLATE "C" NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE sync_new (id TEXT COLLATE "C" PRIMARY KEY) ON COMMIT DROP;
CREATE TEMP TABLE sync_changed (id TEXT COLLATE "C" PRIMARY KEY) ON COMMIT DROP`

// DirectorySync implements store.SyncQueries.
func (q *queries) DirectorySync(ctx context.Context, p *store.DirectorySyncParams) (*store.DirectorySyncResult, error) {
	res := &store.DirectorySyncResult{}
	at := tsOrNow(p.At)
	err := q.atomic(ctx, func(q *queries) error {
		if _, err := q.db.Exec(ctx, syncTables); err != nil {
			return mapErr(err, "")
		}
		if p.SyncCompanies {
			if err := q.syncCompanies(ctx, p.Companies, at, &res.Companies); err != nil {
				return err
			}
		}
		if p.SyncUsers {
			if err := q.syncUsers(ctx, p, at, &res.Users); err != nil {
				return err
			}
		}
		// Dropped now rather than at commit: the caller's transaction
		// may go on, or sync again.
		_, err := q.db.Exec(ctx, `DROP TABLE sync_companies, sync_users, sync_groups, sync_members, sync_new, sync_changed`)
		return mapErr(err, "")
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: directory sync: %w", err)
	}
	return res, nil
}

func (q *queries) execN(ctx context.Context, query string, args ...any) (int, error) {
	tag, err := q.db.Exec(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err, "")
	}
	return int(tag.RowsAffected()), nil
}

func (q *queries) syncCompanies(ctx context.Context, cs []*store.Company, at time.Time, c *store.DirectorySyncCounts) error {
	if _, err := q.db.CopyFrom(ctx, pgx.Identifier{"sync_companies"}, []string{"id", "name", "email", "active"},
		pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
			return []any{cs[i].ID, cs[i].Name, cs[i].Email, cs[i].Active}, nil
		})); err != nil {
		return mapErr(err, "")
	}
	var err error
	if c.Created, err = q.execN(ctx, `INSERT INTO companies (id, name, email, active, updated_at)
SELECT s.id, s.name, s.email, s.active, $1 FROM sync_companies s
WHERE NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = s.id)`, at); err != nil {
		return err
	}
	if c.Updated, err = q.execN(ctx, `UPDATE companies c SET name = s.name, email = s.email, active = s.active, updated_at = $1
FROM sync_companies s
WHERE s.id = c.id AND (c.name, c.email, c.active) IS DISTINCT FROM (s.name, s.email, s.active)`, at); err != nil {
		return err
	}
	if c.Deactivated, err = q.execN(ctx, `UPDATE companies c SET active = FALSE, updated_at = $1
WHERE c.active AND NOT EXISTS (SELECT 1 FROM sync_companies s WHERE s.id = c.id)`, at); err != nil {
		return err
	}
	c.Unchanged = len(cs) - c.Created - c.Updated
	return nil
}

func (q *queries) syncUsers(ctx context.Context, p *store.DirectorySyncParams, at time.Time, c *store.DirectorySyncCounts) error {
	us := p.Users
	if _, err := q.db.CopyFrom(ctx, pgx.Identifier{"sync_users"},
		[]string{"id", "ord", "email", "name", "locale", "active", "follower_id", "account_type", "time_zone"},
		pgx.CopyFromSlice(len(us), func(i int) ([]any, error) {
			u := us[i]
			return []any{u.ID, i, u.Email, u.Name, u.Locale, u.Active, nullString(u.FollowerID), u.AccountType, u.TimeZone}, nil
		})); err != nil {
		return mapErr(err, "")
	}
	var groups, members [][]any
	for _, u := range us {
		for _, g := range store.Dedupe(u.Groups) {
			groups = append(groups, []any{u.ID, g})
		}
		for _, co := range store.Dedupe(u.Companies) {
			members = append(members, []any{u.ID, co})
		}
	}
	if _, err := q.db.CopyFrom(ctx, pgx.Identifier{"sync_groups"}, []string{"user_id", "group_name"}, pgx.CopyFromRows(groups)); err != nil {
		return mapErr(err, "")
	}
	if _, err := q.db.CopyFrom(ctx, pgx.Identifier{"sync_members"}, []string{"user_id", "company_id"}, pgx.CopyFromRows(members)); err != nil {
		return mapErr(err, "")
	}
	if _, err := q.db.Exec(ctx, `ANALYZE sync_users; ANALYZE sync_groups; ANALYZE sync_members`); err != nil {
		return mapErr(err, "")
	}
	if err := q.syncReferences(ctx); err != nil {
		return err
	}
	// $1 is the time of the changes.
	steps := []struct {
		query string
		n     *int
	}{
		{`INSERT INTO sync_new (id) SELECT s.id FROM sync_users s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.id)`, &c.Created},
		// Existing people whose fields, groups or companies differ.
		{`INSERT INTO sync_changed (id)
SELECT s.id FROM sync_users s JOIN users u ON u.id = s.id
    WHERE (u.email, u.name, u.locale, u.active, u.follower_id, u.account_type)
        IS DISTINCT FROM (s.email, s.name, s.locale, s.active, s.follower_id, s.account_type)
        OR (s.time_zone <> '' AND u.time_zone IS DISTINCT FROM s.time_zone)
UNION SELECT user_id FROM (SELECT user_id, group_name FROM sync_groups
    EXCEPT SELECT g.user_id, g.group_name FROM user_groups g JOIN sync_users s ON s.id = g.user_id) d
UNION SELECT user_id FROM (SELECT g.user_id, g.group_name FROM user_groups g JOIN sync_users s ON s.id = g.user_id
    EXCEPT SELECT user_id, group_name FROM sync_groups) d
UNION SELECT user_id FROM (SELECT user_id, company_id FROM sync_members
    EXCEPT SELECT m.user_id, m.company_id FROM company_members m JOIN sync_users s ON s.id = m.user_id) d
UNION SELECT user_id FROM (SELECT m.user_id, m.company_id FROM company_members m JOIN sync_users s ON s.id = m.user_id
    EXCEPT SELECT user_id, company_id FROM sync_members) d`, nil},
		{`DELETE FROM sync_changed c USING sync_new n WHERE n.id = c.id`, nil},
		{`INSERT INTO users (id, email, name, locale, active, follower_id, account_type, time_zone, updated_at)
SELECT s.id, s.email, s.name, s.locale, s.active, s.follower_id, s.account_type, s.time_zone, $1
FROM sync_users s JOIN sync_new n ON n.id = s.id`, nil},
		{`UPDATE users u SET email = s.email, name = s.name, locale = s.locale, active = s.active,
    follower_id = s.follower_id, account_type = s.account_type,
    time_zone = CASE WHEN s.time_zone = '' THEN u.time_zone ELSE s.time_zone END, updated_at = $1
FROM sync_users s JOIN sync_changed c ON c.id = s.id WHERE u.id = s.id`, &c.Updated},
		{`DELETE FROM user_groups g USING sync_changed c WHERE g.user_id = c.id`, nil},
		{`DELETE FROM company_members m USING sync_changed c WHERE m.user_id = c.id`, nil},
		{`INSERT INTO user_groups (user_id, group_name) SELECT g.user_id, g.group_name FROM sync_groups g
WHERE g.user_id IN (SELECT id FROM sync_changed UNION ALL SELECT id FROM sync_new)`, nil},
		{`INSERT INTO company_members (company_id, user_id) SELECT m.company_id, m.user_id FROM sync_members m
WHERE m.user_id IN (SELECT id FROM sync_changed UNION ALL SELECT id FROM sync_new)`, nil},
		{`UPDATE users u SET active = FALSE, updated_at = $1
WHERE u.active AND NOT EXISTS (SELECT 1 FROM sync_users s WHERE s.id = u.id)`, &c.Deactivated},
	}
	for _, st := range steps {
		var args []any
		if strings.Contains(st.query, "$1") {
			args = []any{at}
		}
		n, err := q.execN(ctx, st.query, args...)
		if err != nil {
			return err
		}
		if st.n != nil {
			*st.n = n
		}
	}
	c.Unchanged = len(us) - c.Created - c.Updated
	return nil
}

// syncReferences refuses a follower or company that is neither in the
// snapshot nor in the directory, naming the first row that names one.
func (q *queries) syncReferences(ctx context.Context) error {
	var (
		ord int
		id  string
	)
	err := q.db.QueryRow(ctx, `SELECT s.ord, s.follower_id FROM sync_users s
WHERE s.follower_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sync_users f WHERE f.id = s.follower_id)
    AND NOT EXISTS (SELECT 1 FROM users f WHERE f.id = s.follower_id)
ORDER BY s.ord LIMIT 1`).Scan(&ord, &id)
	switch {
	case err == nil:
		return store.Invalid(fmt.Sprintf("users[%d].follower_id", ord), "user %q is neither in the snapshot nor in the directory", id)
	case !errors.Is(err, pgx.ErrNoRows):
		return mapErr(err, "")
	}
	err = q.db.QueryRow(ctx, `SELECT s.ord, m.company_id FROM sync_members m JOIN sync_users s ON s.id = m.user_id
WHERE NOT EXISTS (SELECT 1 FROM sync_companies c WHERE c.id = m.company_id)
    AND NOT EXISTS (SELECT 1 FROM companies c WHERE c.id = m.company_id)
ORDER BY s.ord LIMIT 1`).Scan(&ord, &id)
	switch {
	case err == nil:
		return store.Invalid(fmt.Sprintf("users[%d].companies", ord), "company %q is neither in the snapshot nor in the directory", id)
	case !errors.Is(err, pgx.ErrNoRows):
		return mapErr(err, "")
	}
	return nil
}

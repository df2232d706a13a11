package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// UserUpsert creates or replaces user u: its fields, its groups, its
// companies and its follower. A follower or company that does not exist is
// a *store.FieldError on "follower_id" or "companies". UpdatedAt is set to
// now when zero, and u's times are normalised.
func (q *queries) UserUpsert(ctx context.Context, u *store.User) error {
	if u.ID == "" {
		return fmt.Errorf("postgres: user upsert: %w", store.Invalid("id", "must not be empty"))
	}
	updated := tsOrNow(u.UpdatedAt)
	groups := store.Dedupe(u.Groups)
	companies := store.Dedupe(u.Companies)
	err := q.atomic(ctx, func(q *queries) error {
		if u.FollowerID != "" && u.FollowerID != u.ID {
			var ok bool
			err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, u.FollowerID).Scan(&ok)
			if err != nil {
				return mapErr(err, "")
			}
			if !ok {
				return store.Invalid("follower_id", "user %q does not exist", u.FollowerID)
			}
		}
		if len(companies) > 0 {
			rows, err := q.db.Query(ctx, `SELECT id FROM companies WHERE id = ANY($1)`, companies)
			if err != nil {
				return mapErr(err, "")
			}
			found, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return mapErr(err, "")
			}
			var missing []string
			for _, c := range companies {
				if !slices.Contains(found, c) {
					missing = append(missing, fmt.Sprintf("%q", c))
				}
			}
			if len(missing) > 0 {
				return store.Invalid("companies", "company %s does not exist", strings.Join(missing, ", "))
			}
		}
		_, err := q.db.Exec(ctx, `
INSERT INTO users (id, email, name, locale, active, follower_id, account_type, updated_at, time_zone)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET
    email = EXCLUDED.email,
    name = EXCLUDED.name,
    locale = EXCLUDED.locale,
    active = EXCLUDED.active,
    follower_id = EXCLUDED.follower_id,
    account_type = EXCLUDED.account_type,
    updated_at = EXCLUDED.updated_at,
    time_zone = CASE WHEN EXCLUDED.time_zone = '' THEN users.time_zone ELSE EXCLUDED.time_zone END`,
			u.ID, u.Email, u.Name, u.Locale, u.Active, nullString(u.FollowerID), u.AccountType, updated, u.TimeZone)
		if err != nil {
			return mapErr(err, "id")
		}
		if _, err := q.db.Exec(ctx, `DELETE FROM user_groups WHERE user_id = $1`, u.ID); err != nil {
			return mapErr(err, "")
		}
		if len(groups) > 0 {
			_, err := q.db.Exec(ctx, `
INSERT INTO user_groups (user_id, group_name)
SELECT $1, g FROM unnest($2::text[]) AS g
ON CONFLICT DO NOTHING`, u.ID, groups)
			if err != nil {
				return mapErr(err, "groups")
			}
		}
		if _, err := q.db.Exec(ctx, `DELETE FROM company_members WHERE user_id = $1`, u.ID); err != nil {
			return mapErr(err, "")
		}
		if len(companies) > 0 {
			_, err := q.db.Exec(ctx, `
INSERT INTO company_members (company_id, user_id)
SELECT c, $1 FROM unnest($2::text[]) AS c
ON CONFLICT DO NOTHING`, u.ID, companies)
			if err != nil {
				return mapErr(err, "companies")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: user upsert %q: %w", u.ID, err)
	}
	u.UpdatedAt = updated
	return nil
}

// userSelect reads users with their groups and companies, sorted; scanUser
// scans its rows.
const userSelect = `
SELECT id, email, name, locale, active, coalesce(follower_id, ''), account_type, updated_at, time_zone,
    ARRAY(SELECT group_name FROM user_groups WHERE user_id = u.id ORDER BY group_name COLLATE "C"),
    ARRAY(SELECT company_id FROM company_members WHERE user_id = u.id ORDER BY company_id COLLATE "C")
FROM users u`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &u.FollowerID, &u.AccountType, &u.UpdatedAt, &u.TimeZone, &u.Groups, &u.Companies)
	u.UpdatedAt = u.UpdatedAt.UTC()
	if u.Groups == nil {
		u.Groups = []string{}
	}
	if u.Companies == nil {
		u.Companies = []string{}
	}
	return u, err
}

// UserGet returns user id with its groups and companies, sorted.
func (q *queries) UserGet(ctx context.Context, id string) (*store.User, error) {
	u, err := scanUser(q.db.QueryRow(ctx, userSelect+` WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: user get %q: %w", id, mapErr(err, ""))
	}
	return &u, nil
}

// UserDelete deletes user id, its memberships, and unsets it as anyone's
// follower.
func (q *queries) UserDelete(ctx context.Context, id string) error {
	err := q.atomic(ctx, func(q *queries) error {
		tag, err := q.db.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return mapErr(err, "")
		}
		if tag.RowsAffected() == 0 {
			return store.ErrNotFound
		}
		_, err = q.db.Exec(ctx, `UPDATE users SET follower_id = NULL WHERE follower_id = $1`, id)
		return mapErr(err, "")
	})
	if err != nil {
		return fmt.Errorf("postgres: user delete %q: %w", id, err)
	}
	return nil
}

// collectContacts reads (id, email, active) rows.
func collectContacts(rows pgx.Rows, err error) ([]store.Contact, error) {
	if err != nil {
		return nil, mapErr(err, "")
	}
	out := []store.Contact{}
	var c store.Contact
	_, err = pgx.ForEachRow(rows, []any{&c.UserID, &c.Email, &c.Active}, func() error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, mapErr(err, "")
	}
	return out, nil
}

// UserContacts returns the users among ids that exist, active or not,
// ordered by id.
func (q *queries) UserContacts(ctx context.Context, ids []string) ([]store.Contact, error) {
	if len(ids) == 0 {
		return []store.Contact{}, nil
	}
	query, arg := `SELECT id, email, active FROM users WHERE id = ANY($1) ORDER BY id COLLATE "C"`, any(ids)
	if len(ids) == 1 {
		// One id (most notifies): a statement whose plan does not depend
		// on the array's length is planned once (see oneOrAny).
		query, arg = `SELECT id, email, active FROM users WHERE id = $1`, ids[0]
	}
	out, err := collectContacts(q.db.Query(ctx, query, arg))
	if err != nil {
		return nil, fmt.Errorf("postgres: user contacts: %w", err)
	}
	return out, nil
}

// GroupsActive tells, for each group of groups that has members, whether
// one of them is active.
func (q *queries) GroupsActive(ctx context.Context, groups []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(groups) == 0 {
		return out, nil
	}
	from, arg := `unnest($1::text[]) AS g`, any(groups)
	if len(groups) == 1 {
		from, arg = `(SELECT $1::text AS g) AS g`, groups[0] // planned once (see oneOrAny)
	}
	rows, err := q.db.Query(ctx, `
SELECT g, EXISTS (SELECT 1 FROM user_groups m JOIN users u ON u.id = m.user_id
                  WHERE m.group_name = g AND u.active)
FROM `+from+`
WHERE EXISTS (SELECT 1 FROM user_groups m WHERE m.group_name = g)`, arg)
	if err != nil {
		return nil, fmt.Errorf("postgres: groups active: %w", mapErr(err, ""))
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name   string
			active bool
		)
		if err := rows.Scan(&name, &active); err != nil {
			return nil, fmt.Errorf("postgres: groups active: %w", mapErr(err, ""))
		}
		out[name] = active
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: groups active: %w", mapErr(err, ""))
	}
	return out, nil
}

// GroupContacts returns the active members of any of groups, each once,
// ordered by id.
func (q *queries) GroupContacts(ctx context.Context, groups []string) ([]store.Contact, error) {
	if len(groups) == 0 {
		return []store.Contact{}, nil
	}
	out, err := collectContacts(q.db.Query(ctx, `
SELECT u.id, u.email, u.active FROM users u
WHERE u.active AND EXISTS (
    SELECT 1 FROM user_groups g WHERE g.user_id = u.id AND g.group_name = ANY($1))
ORDER BY u.id COLLATE "C"`, groups))
	if err != nil {
		return nil, fmt.Errorf("postgres: group contacts: %w", err)
	}
	return out, nil
}

// CompanyContacts returns the active members of company companyID, none
// when the company is inactive or unknown, ordered by id.
func (q *queries) CompanyContacts(ctx context.Context, companyID string) ([]store.Contact, error) {
	out, err := collectContacts(q.db.Query(ctx, `
SELECT u.id, u.email, u.active FROM users u
JOIN company_members m ON m.user_id = u.id
JOIN companies c ON c.id = m.company_id
WHERE c.id = $1 AND c.active AND u.active
ORDER BY u.id COLLATE "C"`, companyID))
	if err != nil {
		return nil, fmt.Errorf("postgres: company contacts %q: %w", companyID, err)
	}
	return out, nil
}

// CompanyUpsert creates or replaces company c. UpdatedAt is set to now
// when zero.
func (q *queries) CompanyUpsert(ctx context.Context, c *store.Company) error {
	if c.ID == "" {
		return fmt.Errorf("postgres: company upsert: %w", store.Invalid("id", "must not be empty"))
	}
	updated := tsOrNow(c.UpdatedAt)
	_, err := q.db.Exec(ctx, `
INSERT INTO companies (id, name, email, active, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO UPDATE SET
    name = EXCLUDED.name,
    email = EXCLUDED.email,
    active = EXCLUDED.active,
    updated_at = EXCLUDED.updated_at`,
		c.ID, c.Name, c.Email, c.Active, updated)
	if err != nil {
		return fmt.Errorf("postgres: company upsert %q: %w", c.ID, mapErr(err, "id"))
	}
	c.UpdatedAt = updated
	return nil
}

// CompanyGet returns company id.
func (q *queries) CompanyGet(ctx context.Context, id string) (*store.Company, error) {
	var c store.Company
	err := q.db.QueryRow(ctx, `
SELECT id, name, email, active, updated_at FROM companies WHERE id = $1`, id).Scan(
		&c.ID, &c.Name, &c.Email, &c.Active, &c.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("postgres: company get %q: %w", id, mapErr(err, ""))
	}
	c.UpdatedAt = c.UpdatedAt.UTC()
	return &c, nil
}

// CompanyDelete deletes company id and its memberships.
func (q *queries) CompanyDelete(ctx context.Context, id string) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM companies WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: company delete %q: %w", id, mapErr(err, ""))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: company delete %q: %w", id, store.ErrNotFound)
	}
	return nil
}

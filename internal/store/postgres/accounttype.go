package postgres

import (
	"context"
	"fmt"

	"github.com/cloche/cloche/internal/store"
)

// accountTypeCond is the condition that user u is reached by account type
// t, its argument numbered n: always true for "all" (no argument).
func accountTypeCond(t string, n int) (string, []any) {
	types := store.AccountTypesReached(t)
	if types == nil {
		return `TRUE`, nil
	}
	return fmt.Sprintf(`u.account_type = ANY($%d::text[])`, n), []any{types}
}

// AccountTypeContacts returns the active users reached by account type t.
func (q *queries) AccountTypeContacts(ctx context.Context, t string) ([]store.Contact, error) {
	cond, args := accountTypeCond(t, 1)
	out, err := collectContacts(q.db.Query(ctx, `
SELECT u.id, u.email, u.active FROM users u
WHERE u.active AND `+cond+`
ORDER BY u.id COLLATE "C"`, args...))
	if err != nil {
		return nil, fmt.Errorf("postgres: account type contacts: %w", err)
	}
	return out, nil
}

// AccountTypeContactsAmong is AccountTypeContacts limited to the users of ids.
func (q *queries) AccountTypeContactsAmong(ctx context.Context, t string, ids []string) ([]store.Contact, error) {
	if len(ids) == 0 {
		return []store.Contact{}, nil
	}
	cond, args := accountTypeCond(t, 2)
	out, err := collectContacts(q.db.Query(ctx, `
SELECT u.id, u.email, u.active FROM users u
WHERE u.active AND u.id = ANY($1::text[]) AND `+cond+`
ORDER BY u.id COLLATE "C"`, append([]any{ids}, args...)...))
	if err != nil {
		return nil, fmt.Errorf("postgres: account type contacts among: %w", err)
	}
	return out, nil
}

// AccountTypeActive tells whether an active user is reached by account type t.
func (q *queries) AccountTypeActive(ctx context.Context, t string) (bool, error) {
	cond, args := accountTypeCond(t, 1)
	var ok bool
	if err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users u WHERE u.active AND `+cond+`)`, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: account type active: %w", mapErr(err, ""))
	}
	return ok, nil
}

package sqlite

import (
	"context"

	"github.com/cloche/cloche/internal/store"
)

// accountTypeCond is the condition that user u is reached by account type
// t, with its arguments: always true for "all".
func accountTypeCond(t string) (string, []any) {
	types := store.AccountTypesReached(t)
	if types == nil {
		return `1`, nil
	}
	return `u.account_type IN (SELECT value FROM json_each(?))`, []any{jsonList(types)}
}

func (q *queries) AccountTypeContacts(ctx context.Context, t string) ([]store.Contact, error) {
	cond, args := accountTypeCond(t)
	out, err := scanContacts(q.r.QueryContext(ctx, `SELECT u.id, u.email, u.active FROM users u
		WHERE u.active AND `+cond+` ORDER BY u.id`, args...))
	return out, mapErr("account type contacts", err)
}

func (q *queries) AccountTypeContactsAmong(ctx context.Context, t string, ids []string) ([]store.Contact, error) {
	cond, args := accountTypeCond(t)
	out, err := scanContacts(q.r.QueryContext(ctx, `SELECT u.id, u.email, u.active
		FROM (SELECT DISTINCT value AS id FROM json_each(?)) a CROSS JOIN users u ON u.id = a.id
		WHERE u.active AND `+cond+` ORDER BY u.id`, append([]any{jsonList(ids)}, args...)...))
	return out, mapErr("account type contacts among", err)
}

func (q *queries) AccountTypeActive(ctx context.Context, t string) (bool, error) {
	cond, args := accountTypeCond(t)
	var ok bool
	err := q.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users u WHERE u.active AND `+cond+`)`, args...).Scan(&ok)
	return ok, mapErr("account type active", err)
}

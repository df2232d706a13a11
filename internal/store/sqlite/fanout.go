package sqlite

import (
	"context"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// fanOutRoutes is the union of the routes of p as one subquery of user ids,
// with its arguments; empty when there is no route. Only the routes given
// take part; with a single one, no UNION is needed to make users unique (a
// group's members and a company's are unique already).
func fanOutRoutes(p *store.NotificationFanOutParams) (string, []any) {
	var routes []string
	var args []any
	if len(p.GroupNames) > 0 {
		distinct := ""
		if len(p.GroupNames) > 1 {
			distinct = "DISTINCT "
		}
		routes = append(routes, `SELECT `+distinct+`g.user_id AS id FROM user_groups g WHERE g.group_name IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(p.GroupNames))
	}
	if len(p.UserIDs) > 0 {
		routes = append(routes, `SELECT DISTINCT value AS id FROM json_each(?)`)
		args = append(args, jsonList(p.UserIDs))
	}
	if p.CompanyID != "" {
		routes = append(routes, `SELECT m.user_id AS id FROM company_members m
			JOIN companies c ON c.id = m.company_id AND c.active WHERE m.company_id = ?`)
		args = append(args, p.CompanyID)
	}
	if p.AccountType != "" {
		cond, condArgs := accountTypeCond(p.AccountType)
		routes = append(routes, `SELECT u.id AS id FROM users u WHERE `+cond)
		args = append(args, condArgs...)
	}
	if len(routes) == 0 {
		return "", nil
	}
	return "(" + strings.Join(routes, " UNION ") + ")", args
}

// fanOutMember is the condition that user u is reached by the routes of
// p, probed per user through the indexes on user ids: for the few users
// a fan-out starts from.
func fanOutMember(p *store.NotificationFanOutParams) (string, []any) {
	var conds []string
	var args []any
	if len(p.GroupNames) > 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM user_groups g WHERE g.user_id = u.id AND g.group_name IN (SELECT value FROM json_each(?)))`)
		args = append(args, jsonList(p.GroupNames))
	}
	if len(p.UserIDs) > 0 {
		conds = append(conds, `u.id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(p.UserIDs))
	}
	if p.CompanyID != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM company_members m JOIN companies c ON c.id = m.company_id AND c.active
			WHERE m.user_id = u.id AND m.company_id = ?)`)
		args = append(args, p.CompanyID)
	}
	if p.AccountType != "" {
		cond, condArgs := accountTypeCond(p.AccountType)
		conds = append(conds, cond)
		args = append(args, condArgs...)
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// exceptions is the query of the users whose own settings give them the
// opposite of f.Fallback on f.Channel for f.Key (the type's setting over
// the category's), driven by the settings index: few rows, whatever the
// number of recipients.
func exceptions(f *store.PreferenceFilter) (string, []any) {
	return `SELECT p.user_id FROM preferences p
		LEFT JOIN preferences pt ON pt.user_id = p.user_id AND pt.kind = 'type' AND pt.scope = ? AND pt.channel = p.channel
		LEFT JOIN preferences pc ON pc.user_id = p.user_id AND pc.kind = 'category' AND pc.scope = ? AND pc.channel = p.channel
		WHERE ((p.kind = 'type' AND p.scope = ?) OR (p.kind = 'category' AND p.scope = ?))
			AND p.channel = ? AND p.enabled = ? AND COALESCE(pt.enabled, pc.enabled) = ?`,
		[]any{f.Key, f.Category, f.Key, f.Category, string(f.Channel), !f.Fallback, !f.Fallback}
}

// reached is the FROM clause of the users u a fan-out reaches through
// routes, with its arguments. With f, it keeps those who get the channel
// (on) or those who do not (!on): where they are the exceptions to the
// fallback (few), it starts from them and checks the routes; otherwise it
// starts from the routes and leaves the exceptions out.
func reached(p *store.NotificationFanOutParams, routes string, routeArgs []any, f *store.PreferenceFilter, on bool) (string, []any) {
	if f == nil {
		return routes + ` r JOIN users u ON u.id = r.id AND u.active`, routeArgs
	}
	ex, exArgs := exceptions(f)
	if on != f.Fallback {
		member, memberArgs := fanOutMember(p)
		// CROSS JOIN keeps SQLite from scanning users and probing the
		// (few) exceptions.
		return `(SELECT DISTINCT user_id AS id FROM (` + ex + `)) r
		CROSS JOIN users u ON u.id = r.id AND u.active WHERE ` + member,
			append(exArgs, memberArgs...)
	}
	return routes + ` r JOIN users u ON u.id = r.id AND u.active WHERE u.id NOT IN (` + ex + `)`,
		append(slices.Clone(routeArgs), exArgs...)
}

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database. With p.Prefs, the
// same statement keeps only the users for whom the channel is on, and a
// second one records the others as skipped when asked.
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	routes, routeArgs := fanOutRoutes(p)
	if routes == "" {
		return 0, nil
	}
	at := ts(p.CreatedAt)
	from, fromArgs := reached(p, routes, routeArgs, p.Prefs, true)
	var n int
	err := q.atomic(ctx, func(q *queries) error {
		res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, u.id, ?, ?, ?, ? FROM `+from,
			append([]any{p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt)}, fromArgs...)...)
		if err != nil {
			return err
		}
		n64, err := res.RowsAffected()
		n = int(n64)
		if err != nil || p.Prefs == nil || !p.Prefs.Skips {
			return err
		}
		from, fromArgs := reached(p, routes, routeArgs, p.Prefs, false)
		_, err = q.w.ExecContext(ctx, `INSERT INTO preference_skips (event_id, user_id, channel)
		SELECT ?, u.id, ? FROM `+from+`
		ON CONFLICT DO NOTHING`, append([]any{p.EventID, string(p.Channel)}, fromArgs...)...)
		return err
	})
	if err != nil {
		return 0, mapErr("notification fan-out", err)
	}
	return n, nil
}

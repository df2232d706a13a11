package sqlite

import (
	"context"
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
	if len(routes) == 0 {
		return "", nil
	}
	return "(" + strings.Join(routes, " UNION ") + ")", args
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

// preferenceCond is the condition on the users u a fan-out reaches that
// keeps those who get the channel (on) or those who do not (!on).
func preferenceCond(f *store.PreferenceFilter, on bool) (string, []any) {
	q, args := exceptions(f)
	in := " IN "
	if on == f.Fallback {
		in = " NOT IN "
	}
	return ` WHERE u.id` + in + `(` + q + `)`, args
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
	args := append([]any{p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt)}, routeArgs...)
	filter := ""
	if p.Prefs != nil {
		join, jargs := preferenceCond(p.Prefs, true)
		filter, args = join, append(args, jargs...)
	}
	var n int
	err := q.atomic(ctx, func(q *queries) error {
		res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, r.id, ?, ?, ?, ? FROM `+routes+` r
		JOIN users u ON u.id = r.id AND u.active`+filter, args...)
		if err != nil {
			return err
		}
		n64, err := res.RowsAffected()
		n = int(n64)
		if err != nil || p.Prefs == nil || !p.Prefs.Skips {
			return err
		}
		join, jargs := preferenceCond(p.Prefs, false)
		_, err = q.w.ExecContext(ctx, `INSERT INTO preference_skips (event_id, user_id, channel)
		SELECT ?, r.id, ? FROM `+routes+` r
		JOIN users u ON u.id = r.id AND u.active`+join+`
		ON CONFLICT DO NOTHING`, append(append([]any{p.EventID, string(p.Channel)}, routeArgs...), jargs...)...)
		return err
	})
	if err != nil {
		return 0, mapErr("notification fan-out", err)
	}
	return n, nil
}

package sqlite

import (
	"context"
	"fmt"
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
// number of recipients. Each user comes once: the type's settings as
// they are, and the category's of those who have none for the type (one
// probe of the primary key each).
func exceptions(f *store.PreferenceFilter) (string, []any) {
	return `SELECT p.user_id FROM preferences p
		WHERE p.kind = 'type' AND p.scope = ? AND p.channel = ? AND p.enabled = ?
		UNION ALL
		SELECT p.user_id FROM preferences p
		WHERE p.kind = 'category' AND p.scope = ? AND p.channel = ? AND p.enabled = ?
			AND NOT EXISTS (SELECT 1 FROM preferences t
				WHERE t.user_id = p.user_id AND t.kind = 'type' AND t.scope = ? AND t.channel = p.channel)`,
		[]any{f.Key, string(f.Channel), !f.Fallback, f.Category, string(f.Channel), !f.Fallback, f.Key}
}

// reached is the FROM clause of the users u a fan-out reaches through
// routes, with its arguments. With f, it keeps those who get the channel
// (on) or those who do not (!on): where they are the exceptions to the
// fallback (few), it starts from them and checks the routes; otherwise it
// starts from the routes and leaves out the users of without, a query of
// user ids (the exceptions, or those already recorded as skipped).
func reached(p *store.NotificationFanOutParams, routes string, routeArgs []any, f *store.PreferenceFilter, on bool, without string, withoutArgs []any) (string, []any) {
	if f == nil {
		return routes + ` r JOIN users u ON u.id = r.id AND u.active`, routeArgs
	}
	if on != f.Fallback {
		ex, exArgs := exceptions(f)
		member, memberArgs := fanOutMember(p)
		// CROSS JOIN keeps SQLite from scanning users and probing the
		// (few) exceptions.
		return `(SELECT user_id AS id FROM (` + ex + `)) r
		CROSS JOIN users u ON u.id = r.id AND u.active WHERE ` + member,
			append(exArgs, memberArgs...)
	}
	if without == "" {
		without, withoutArgs = exceptions(f)
	}
	// Only who has settings at all can be an exception: the others are
	// not looked up.
	return routes + ` r JOIN users u ON u.id = r.id AND u.active
		WHERE (NOT u.has_preferences OR u.id NOT IN (` + without + `))`,
		append(slices.Clone(routeArgs), withoutArgs...)
}

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database. With p.Prefs, the
// same statement keeps only the users for whom the channel is on, and
// another records the others as skipped when asked. Where those are the
// few exceptions to a fallback of on, they are recorded first, and the
// fan-out leaves out whom it recorded (an index range) rather than
// working the exceptions out twice.
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	counts, err := q.NotificationFanOutChannels(ctx, p)
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, err
}

// NotificationFanOutChannels is NotificationFanOut with p.Also: one
// INSERT whose rows are, per user reached, the main channel and those of
// p.Also that user's settings turn on, so that a person's rows land side
// by side in the inbox index (a second statement for the few would write
// each on a page of its own). The others' counts are read first from the
// few whose settings turn them on.
func (q *queries) NotificationFanOutChannels(ctx context.Context, p *store.NotificationFanOutParams) (map[store.Channel]int, error) {
	if p.Finish == nil {
		return q.fanOutChannels(ctx, p)
	}
	if err := store.CheckFanOutFinish(p); err != nil {
		return nil, fmt.Errorf("sqlite: notification fan-out: %w", err)
	}
	var counts map[store.Channel]int
	err := q.atomic(ctx, func(q *queries) error {
		var err error
		if counts, err = q.fanOutChannels(ctx, p); err != nil {
			return err
		}
		return q.EventFinish(ctx, p.FinishWith(counts))
	})
	return counts, err
}

// fanOutChannels is NotificationFanOutChannels without p.Finish.
func (q *queries) fanOutChannels(ctx context.Context, p *store.NotificationFanOutParams) (map[store.Channel]int, error) {
	counts := map[store.Channel]int{}
	routes, routeArgs := fanOutRoutes(p)
	if routes == "" {
		return counts, nil
	}
	f := p.Prefs
	if len(p.Also) > 0 && f != nil && !f.Fallback {
		return nil, fmt.Errorf("sqlite: notification fan-out: %w", store.Invalid("also", "needs a main channel reaching most people"))
	}
	at := ts(p.CreatedAt)
	skips := func(q *queries) error {
		from, fromArgs := reached(p, routes, routeArgs, f, false, "", nil)
		_, err := q.w.ExecContext(ctx, `INSERT INTO preference_skips (event_id, user_id, channel)
		SELECT ?, u.id, ? FROM `+from+`
		ON CONFLICT DO NOTHING`, append([]any{p.EventID, string(p.Channel)}, fromArgs...)...)
		return err
	}
	skipsFirst := f != nil && f.Skips && f.Fallback
	err := q.atomic(ctx, func(q *queries) error {
		var without string
		var withoutArgs []any
		if skipsFirst {
			if err := skips(q); err != nil {
				return err
			}
			without = `SELECT user_id FROM preference_skips WHERE event_id = ? AND channel = ?`
			withoutArgs = []any{p.EventID, string(p.Channel)}
		}
		from, fromArgs := reached(p, routes, routeArgs, f, true, without, withoutArgs)
		if len(p.Also) == 0 {
			res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, u.id, ?, ?, ?, ? FROM `+from,
				append([]any{p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt)}, fromArgs...)...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			counts[p.Channel] = int(n)
			if err != nil || f == nil || !f.Skips || skipsFirst {
				return err
			}
			return skips(q)
		}
		// The main channel is row 0 of ch, p.Also's are the next: the
		// condition keeps, per user, the main one as from says and each
		// other where the user is one of its exceptions.
		values := []string{"(0, ?)"}
		chArgs := []any{string(p.Channel)}
		var conds []string
		var condArgs []any
		also := 0
		for i, a := range p.Also {
			values, chArgs = append(values, fmt.Sprintf("(%d, ?)", i+1)), append(chArgs, string(a.Channel))
			ex, exArgs := exceptions(a)
			conds = append(conds, fmt.Sprintf(`(ch.n = %d AND u.has_preferences AND u.id IN (%s))`, i+1, ex))
			condArgs = append(condArgs, exArgs...)
			member, memberArgs := fanOutMember(p)
			var n int
			if err := q.w.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT user_id AS id FROM (`+ex+`)) r
				CROSS JOIN users u ON u.id = r.id AND u.active WHERE `+member,
				append(slices.Clone(exArgs), memberArgs...)...).Scan(&n); err != nil {
				return err
			}
			counts[a.Channel] = n
			also += n
		}
		// The main channel's condition moves into the per-channel one.
		from, fromArgs = reached(p, routes, routeArgs, nil, true, "", nil)
		mainCond := "1"
		if f != nil {
			if without == "" {
				without, withoutArgs = exceptions(f)
			}
			mainCond = `(NOT u.has_preferences OR u.id NOT IN (` + without + `))`
			fromArgs = append(slices.Clone(fromArgs), withoutArgs...)
		}
		// CROSS JOIN keeps ch the inner loop: one user's rows together.
		res, err := q.w.ExecContext(ctx, `WITH ch(n, name) AS MATERIALIZED (VALUES `+strings.Join(values, ", ")+`)
		INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, u.id, ch.name, ?, ?, ? FROM `+from+` CROSS JOIN ch
		WHERE (ch.n = 0 AND `+mainCond+`) OR `+strings.Join(conds, " OR "),
			slices.Concat(chArgs, []any{p.EventID, at, at, tsPtr(p.ExpiresAt)}, fromArgs, condArgs)...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		counts[p.Channel] = int(n) - also
		if err != nil || f == nil || !f.Skips || skipsFirst {
			return err
		}
		return skips(q)
	})
	if err != nil {
		return nil, mapErr("notification fan-out", err)
	}
	return counts, nil
}

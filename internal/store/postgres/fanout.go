package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// fanOut builds a fan-out statement's pieces over a shared argument list.
type fanOut struct{ args []any }

func (f *fanOut) arg(v any) string {
	f.args = append(f.args, v)
	return "$" + strconv.Itoa(len(f.args))
}

// oneOrAny is the condition that col is one of vals: with a single
// value, an equality to it. A prepared statement with an array is planned
// anew at each execution (its custom plan, which knows the array's length,
// always looks cheaper than the generic one), and for a fan-out that
// planning cost more than the statement's execution (BENCHMARKS.md,
// "Writes on PostgreSQL, second pass"); with one value, PostgreSQL
// settles on its generic plan after a few executions and plans no more.
func (f *fanOut) oneOrAny(col string, vals []string) string {
	if len(vals) == 1 {
		return col + ` = ` + f.arg(vals[0]) + `::text`
	}
	return col + ` = ANY(` + f.arg(vals) + `::text[])`
}

// routes is the union of the routes of p as one subquery of user ids;
// empty when there is no route. Only the routes given take part; with a
// single one, no UNION is needed to make users unique (a group's members
// and a company's are unique already).
func (f *fanOut) routes(p *store.NotificationFanOutParams) string {
	var routes []string
	if len(p.GroupNames) > 0 {
		distinct := ""
		if len(p.GroupNames) > 1 {
			distinct = "DISTINCT "
		}
		routes = append(routes, `SELECT `+distinct+`g.user_id AS id FROM user_groups g WHERE `+f.oneOrAny("g.group_name", p.GroupNames))
	}
	switch len(p.UserIDs) {
	case 0:
	case 1:
		routes = append(routes, `SELECT `+f.arg(p.UserIDs[0])+`::text AS id`)
	default:
		routes = append(routes, `SELECT DISTINCT unnest(`+f.arg(p.UserIDs)+`::text[]) AS id`)
	}
	if p.CompanyID != "" {
		routes = append(routes, `SELECT m.user_id AS id FROM company_members m
    JOIN companies c ON c.id = m.company_id AND c.active WHERE m.company_id = `+f.arg(p.CompanyID))
	}
	if p.AccountType != "" {
		routes = append(routes, `SELECT u.id AS id FROM users u WHERE `+f.accountType(p.AccountType))
	}
	if len(routes) == 0 {
		return ""
	}
	return "(" + strings.Join(routes, " UNION ") + ")"
}

// member is the condition that user u is reached by the routes of p,
// probed per user through the indexes on user ids: for the few users a
// fan-out starts from.
func (f *fanOut) member(p *store.NotificationFanOutParams) string {
	var conds []string
	if len(p.GroupNames) > 0 {
		conds = append(conds, `EXISTS (SELECT 1 FROM user_groups g WHERE g.user_id = u.id AND `+f.oneOrAny("g.group_name", p.GroupNames)+`)`)
	}
	if len(p.UserIDs) > 0 {
		conds = append(conds, f.oneOrAny("u.id", p.UserIDs))
	}
	if p.CompanyID != "" {
		conds = append(conds, `EXISTS (SELECT 1 FROM company_members m JOIN companies c ON c.id = m.company_id AND c.active
        WHERE m.user_id = u.id AND m.company_id = `+f.arg(p.CompanyID)+`)`)
	}
	if p.AccountType != "" {
		conds = append(conds, f.accountType(p.AccountType))
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}

// accountType is the condition that user u is reached by account type t.
func (f *fanOut) accountType(t string) string {
	types := store.AccountTypesReached(t)
	if types == nil {
		return `TRUE`
	}
	return `u.account_type = ANY(` + f.arg(types) + `::text[])`
}

// reached is the FROM clause of the users u a fan-out reaches. With pf,
// it keeps those who get the channel (on) or those who do not (!on):
// where they are the exceptions to the fallback (few), it starts from
// them and checks the routes; otherwise it starts from the routes and
// leaves out the users of without, a query of user ids (the exceptions,
// or those already recorded as skipped).
func (f *fanOut) reached(p *store.NotificationFanOutParams, pf *store.PreferenceFilter, on bool, without string) string {
	if pf != nil && on != pf.Fallback {
		// Each exception is looked up by its primary key and its routes
		// probed by index: the subquery's OFFSET 0 keeps the planner
		// from hashing every user with settings instead (a sequential
		// scan of the users, 15-70 ms for 100,000 of them, where 2,500
		// probes take a few), whatever its estimate of the exceptions.
		return `(` + f.exceptions(pf) + `) r
    CROSS JOIN LATERAL (SELECT u.id FROM users u
        WHERE u.id = r.user_id AND u.active AND ` + f.member(p) + ` OFFSET 0) u`
	}
	// The join to users is planned with the statistics of the directory:
	// a bulk write gathers them at once (analyze.go). Forcing a probe per
	// member instead (LATERAL ... OFFSET 0) made the plan safe without
	// them but cost a 10,000-member group a third of its rate
	// (BENCHMARKS.md, "Writes on PostgreSQL").
	from := f.routes(p) + ` r
    JOIN users u ON u.id = r.id AND u.active`
	if pf != nil {
		if without == "" {
			without = f.exceptions(pf)
		}
		// Only who has settings at all can be an exception: the others
		// are not looked up.
		from += `
    WHERE (NOT u.has_preferences OR u.id NOT IN (` + without + `))`
	}
	return from
}

// exceptions is the query of the users whose own settings give them the
// opposite of pf.Fallback on pf.Channel for pf.Key (the type's setting
// over the category's), driven by the settings index: few rows, whatever
// the number of recipients. Each user comes once: the type's settings as
// they are, and the category's of those who have none for the type (one
// probe of the primary key each).
func (f *fanOut) exceptions(pf *store.PreferenceFilter) string {
	key, cat, ch := f.arg(pf.Key), f.arg(pf.Category), f.arg(string(pf.Channel))
	want := f.arg(!pf.Fallback) + "::boolean"
	return `SELECT p.user_id FROM preferences p
    WHERE p.kind = 'type' AND p.scope = ` + key + ` AND p.channel = ` + ch + ` AND p.enabled = ` + want + `
    UNION ALL
    SELECT p.user_id FROM preferences p
    WHERE p.kind = 'category' AND p.scope = ` + cat + ` AND p.channel = ` + ch + ` AND p.enabled = ` + want + `
        AND NOT EXISTS (SELECT 1 FROM preferences t
            WHERE t.user_id = p.user_id AND t.kind = 'type' AND t.scope = ` + key + ` AND t.channel = p.channel)`
}

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database. With p.Prefs, the
// same statement keeps only the users for whom the channel is on, and
// another records the others as skipped when asked.
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	counts, err := q.NotificationFanOutChannels(ctx, p)
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, err
}

// alsoParams are p.Also as fan-outs of their own: from the few people
// whose settings turn each channel on, probing their routes.
func alsoParams(p *store.NotificationFanOutParams) []*store.NotificationFanOutParams {
	out := make([]*store.NotificationFanOutParams, len(p.Also))
	for i, a := range p.Also {
		pp := *p
		pp.Channel, pp.Prefs, pp.Also = a.Channel, a, nil
		out[i] = &pp
	}
	return out
}

// NotificationFanOutChannels is NotificationFanOut with p.Also, each
// channel in a statement of its own, counted as its rows are inserted.
func (q *queries) NotificationFanOutChannels(ctx context.Context, p *store.NotificationFanOutParams) (map[store.Channel]int, error) {
	counts := map[store.Channel]int{}
	for _, a := range append([]*store.PreferenceFilter{{Channel: p.Channel}}, p.Also...) {
		if !a.Channel.Notifies() {
			return nil, fmt.Errorf("postgres: notification fan-out: %w",
				store.Invalid("channel", "%q is not an in-app channel", a.Channel))
		}
	}
	if err := store.CheckFanOutFinish(p); err != nil {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", err)
	}
	pf := p.Prefs
	if len(p.Also) > 0 && pf != nil && !pf.Fallback {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", store.Invalid("also", "needs a main channel reaching most people"))
	}
	if len(p.Also) > 0 {
		// A statement per channel: on PostgreSQL, one pass joining each
		// recipient to the channels measured slower than the scattered
		// index pages it saves (BENCHMARKS.md, "Notify with preferences").
		main := *p
		main.Also = nil
		err := q.atomic(ctx, func(q *queries) error {
			for _, pp := range append([]*store.NotificationFanOutParams{&main}, alsoParams(p)...) {
				c, err := q.NotificationFanOutChannels(ctx, pp)
				if err != nil {
					return err
				}
				counts[pp.Channel] = c[pp.Channel]
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return counts, nil
	}
	at := tsOrNow(p.CreatedAt)
	f := &fanOut{args: []any{p.EventID, string(p.Channel), at, tsPtr(p.ExpiresAt)}}
	if len(p.GroupNames) == 0 && len(p.UserIDs) == 0 && p.CompanyID == "" && p.AccountType == "" {
		if p.Finish != nil {
			if err := q.EventFinish(ctx, p.FinishWith(counts)); err != nil {
				return nil, err
			}
		}
		return counts, nil
	}
	// Where the skipped are the few exceptions to a fallback of on, they
	// are recorded first, and the fan-out leaves out whom it recorded (an
	// index range) rather than working the exceptions out twice.
	skipsFirst := pf != nil && pf.Skips && pf.Fallback
	without := ""
	if skipsFirst {
		without = `SELECT user_id FROM preference_skips WHERE event_id = $1 AND channel = $2`
	}
	from := f.reached(p, pf, true, without)
	query := `
WITH ins AS (
    INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
    SELECT $1, u.id, $2, $3, $3, $4 FROM ` + from + `
    RETURNING id)
SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0), 1 FROM ins`
	if p.Finish != nil {
		// The event's outcome in the same statement: its counts are
		// those of the rows inserted, as MarshalCounts writes them.
		fin := p.Finish
		var report *string
		if fin.Report != nil {
			r := store.MarshalReport(fin.Report)
			report = &r
		}
		query = `
WITH ins AS (
    INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
    SELECT $1, u.id, $2, $3, $3, $4 FROM ` + from + `
    RETURNING id),
c AS (SELECT count(*) AS n, coalesce(min(id), 0) AS first, coalesce(max(id), 0) AS last FROM ins),
fin AS (
    UPDATE events SET status_reason = ` + f.arg(fin.Reason) + `, updated_at = ` + f.arg(tsOrNow(fin.At)) + `,
        channel = coalesce(nullif(` + f.arg(string(fin.Channel)) + `::text, ''), channel),
        counts = '{"' || $2::text || '":' || c.n || '}',
        report = coalesce(` + f.arg(report) + `::text, report)
    FROM c WHERE events.id = $1 AND events.status = 'published'
    RETURNING 1)
SELECT c.n, c.first, c.last, (SELECT count(*) FROM fin) FROM c`
	}
	skips := func(q *queries) error {
		s := &fanOut{args: []any{p.EventID, string(p.Channel)}}
		from := s.reached(p, pf, false, "")
		_, err := q.db.Exec(ctx, `
INSERT INTO preference_skips (event_id, user_id, channel)
SELECT $1, u.id, $2 FROM `+from+`
ON CONFLICT DO NOTHING`, s.args...)
		return mapErr(err, "")
	}
	// The ids' range goes to the feed's listeners with the event id: the
	// range may hold other events' rows (concurrent fan-outs interleave),
	// the event id tells them apart.
	var first, last int64
	err := q.atomic(ctx, func(q *queries) error {
		if skipsFirst {
			if err := skips(q); err != nil {
				return err
			}
		}
		var n, finished int64
		if err := q.db.QueryRow(ctx, query, f.args...).Scan(&n, &first, &last, &finished); err != nil {
			return mapErr(err, "")
		}
		counts[p.Channel] = int(n)
		if finished != 1 {
			return store.Errorf(store.ErrConflict, "event %d is not one this transaction inserted published", p.EventID)
		}
		if pf != nil && pf.Skips && !skipsFirst {
			if err := skips(q); err != nil {
				return err
			}
		}
		if first == 0 {
			return nil
		}
		return q.signalRange(ctx, store.FeedRange{EventID: p.EventID, FirstID: first, LastID: last})
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", err)
	}
	return counts, nil
}

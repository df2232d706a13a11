package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOutMany fans out the events of p that are still pending
// in one statement: it locks them (in id order, FOR UPDATE, so that a
// cancel waits for the publication), unions each one's routes, joins the
// active users and inserts the notifications, each event's rows together
// (its ids one range, noted for the feed as a fan-out of its own does).
// Whatever the number of events, it is one round trip.
func (q *queries) NotificationFanOutMany(ctx context.Context, p *store.NotificationFanOutManyParams) (map[int64]int, error) {
	out := map[int64]int{}
	if err := store.CheckFanOutMany(p); err != nil {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", err)
	}
	if len(p.Events) == 0 {
		return out, nil
	}
	var (
		ids             []int64
		channels        []string
		expires         []*time.Time
		userEv, groupEv []int64
		users, groups   []string
		companyEv       []int64
		companies       []string
	)
	for i := range p.Events {
		e := &p.Events[i]
		ids, channels, expires = append(ids, e.EventID), append(channels, string(e.Channel)), append(expires, tsPtr(e.ExpiresAt))
		for _, u := range e.UserIDs {
			userEv, users = append(userEv, e.EventID), append(users, u)
		}
		for _, g := range e.GroupNames {
			groupEv, groups = append(groupEv, e.EventID), append(groups, g)
		}
		if e.CompanyID != "" {
			companyEv, companies = append(companyEv, e.EventID), append(companies, e.CompanyID)
		}
	}
	// pend is materialised once: the events locked, still pending. The
	// routes' union makes each user once per event, as a fan-out of its
	// own does; the ORDER BY gives each event's rows consecutive ids.
	rows, err := q.db.Query(ctx, `
WITH pend AS MATERIALIZED (
    SELECT e.id FROM events e
    WHERE e.id = ANY($1::bigint[]) AND e.status = 'pending'
    ORDER BY e.id
    FOR UPDATE),
it AS (
    SELECT t.event_id, t.channel, t.expires_at, t.ord
    FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) WITH ORDINALITY AS t(event_id, channel, expires_at, ord)
    WHERE t.event_id IN (SELECT id FROM pend)),
r AS (
    SELECT x.ev AS event_id, x.id AS user_id FROM unnest($4::bigint[], $5::text[]) AS x(ev, id)
    UNION
    SELECT x.ev, g.user_id FROM unnest($6::bigint[], $7::text[]) AS x(ev, name)
        JOIN user_groups g ON g.group_name = x.name
    UNION
    SELECT x.ev, m.user_id FROM unnest($8::bigint[], $9::text[]) AS x(ev, id)
        JOIN companies c ON c.id = x.id AND c.active
        JOIN company_members m ON m.company_id = c.id),
ins AS (
    INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
    SELECT it.event_id, u.id, it.channel, $10, $10, it.expires_at
    FROM it
    JOIN r ON r.event_id = it.event_id
    JOIN users u ON u.id = r.user_id AND u.active
    ORDER BY it.ord, u.id
    RETURNING id, event_id)
SELECT p.id, count(ins.id), coalesce(min(ins.id), 0), coalesce(max(ins.id), 0)
FROM pend p LEFT JOIN ins ON ins.event_id = p.id
GROUP BY p.id
ORDER BY p.id`,
		ids, channels, expires, userEv, users, groupEv, groups, companyEv, companies, tsOrNow(p.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", mapErr(err, ""))
	}
	var ranges []store.FeedRange
	for rows.Next() {
		var (
			r store.FeedRange
			n int64
		)
		if err := rows.Scan(&r.EventID, &n, &r.FirstID, &r.LastID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: notification fan-out: %w", mapErr(err, ""))
		}
		out[r.EventID] = int(n)
		if r.FirstID != 0 {
			ranges = append(ranges, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: notification fan-out: %w", mapErr(err, ""))
	}
	for _, r := range ranges {
		if err := q.signalRange(ctx, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EventFinishMany finishes the events of ps still pending in one
// statement, and returns their ids.
func (q *queries) EventFinishMany(ctx context.Context, ps []store.EventFinishParams) ([]int64, error) {
	if err := store.CheckFinishMany(ps); err != nil {
		return nil, fmt.Errorf("postgres: event finish: %w", err)
	}
	if len(ps) == 0 {
		return nil, nil
	}
	var (
		ids                         []int64
		statuses, reasons, channels []string
		counts, reports             []*string
		ats                         []time.Time
	)
	for i := range ps {
		p := &ps[i]
		var c, r *string
		if p.Counts != nil {
			s := store.MarshalCounts(p.Counts)
			c = &s
		}
		if p.Report != nil {
			s := store.MarshalReport(p.Report)
			r = &s
		}
		ids, statuses, reasons, channels = append(ids, p.ID), append(statuses, string(p.Status)), append(reasons, p.Reason), append(channels, string(p.Channel))
		counts, reports, ats = append(counts, c), append(reports, r), append(ats, tsOrNow(p.At))
	}
	rows, err := q.db.Query(ctx, `
UPDATE events e SET
    status = f.status,
    status_reason = f.reason,
    updated_at = f.at,
    published_at = CASE WHEN f.status = 'published' THEN f.at ELSE e.published_at END,
    channel = CASE WHEN f.channel <> '' THEN f.channel ELSE e.channel END,
    counts = coalesce(f.counts, e.counts),
    report = coalesce(f.report, e.report)
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
    AS f(id, status, reason, channel, counts, report, at)
WHERE e.id = f.id AND e.status = 'pending'
RETURNING e.id`, ids, statuses, reasons, channels, counts, reports, ats)
	if err != nil {
		return nil, fmt.Errorf("postgres: event finish: %w", mapErr(err, ""))
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: event finish: %w", mapErr(err, ""))
	}
	return done, nil
}

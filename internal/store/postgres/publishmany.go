package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// EventPublishMany publishes the events of p still pending in one
// statement: it works out whom each one's routes reach (their union, each
// user once, active users only, as a fan-out of its own does), marks the
// events still pending as published with their counts (the UPDATE waits
// for, and then leaves out, an event a concurrent cancel changed), and
// inserts the notifications of those it marked, each event's rows
// together (its ids one range, noted for the feed as a fan-out of its own
// does). Whatever the number of events, it is one round trip.
func (q *queries) EventPublishMany(ctx context.Context, p *store.EventPublishManyParams) (map[int64]int, error) {
	out := map[int64]int{}
	if err := store.CheckPublishMany(p); err != nil {
		return nil, fmt.Errorf("postgres: event publish: %w", err)
	}
	if len(p.Events) == 0 {
		return out, nil
	}
	var (
		ids                        []int64
		channels, reasons          []string
		reports                    []*string
		expires                    []*time.Time
		userEv, groupEv, companyEv []int64
		users, groups, companies   []string
	)
	for i := range p.Events {
		e := &p.Events[i]
		var rep *string
		if e.Report != nil {
			r := store.MarshalReport(e.Report)
			rep = &r
		}
		ids, channels, expires = append(ids, e.EventID), append(channels, string(e.Channel)), append(expires, tsPtr(e.ExpiresAt))
		reasons, reports = append(reasons, e.Reason), append(reports, rep)
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
	// counts is store.MarshalCounts of one channel, written in SQL:
	// {"message":3}.
	rows, err := q.db.Query(ctx, `
WITH it AS MATERIALIZED (
    SELECT t.event_id, t.channel, t.expires_at, t.reason, t.report, t.ord
    FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])
        WITH ORDINALITY AS t(event_id, channel, expires_at, reason, report, ord)),
r AS (
    SELECT x.ev AS event_id, x.id AS user_id FROM unnest($6::bigint[], $7::text[]) AS x(ev, id)
    UNION
    SELECT x.ev, g.user_id FROM unnest($8::bigint[], $9::text[]) AS x(ev, name)
        JOIN user_groups g ON g.group_name = x.name
    UNION
    SELECT x.ev, m.user_id FROM unnest($10::bigint[], $11::text[]) AS x(ev, id)
        JOIN companies c ON c.id = x.id AND c.active
        JOIN company_members m ON m.company_id = c.id),
reach AS MATERIALIZED (
    SELECT r.event_id, u.id AS user_id FROM r JOIN users u ON u.id = r.user_id AND u.active),
cnt AS (
    SELECT it.event_id, count(reach.user_id) AS n
    FROM it LEFT JOIN reach ON reach.event_id = it.event_id
    GROUP BY it.event_id),
upd AS (
    UPDATE events e SET
        status = 'published',
        status_reason = it.reason,
        updated_at = $12,
        published_at = $12,
        channel = it.channel,
        counts = '{"' || it.channel || '":' || cnt.n || '}',
        report = coalesce(it.report, e.report)
    FROM it JOIN cnt ON cnt.event_id = it.event_id
    WHERE e.id = it.event_id AND e.status = 'pending'
    RETURNING e.id, cnt.n),
ins AS (
    INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
    SELECT it.event_id, reach.user_id, it.channel, $12, $12, it.expires_at
    FROM it JOIN reach ON reach.event_id = it.event_id
    WHERE it.event_id IN (SELECT id FROM upd)
    ORDER BY it.ord, reach.user_id
    RETURNING id, event_id)
SELECT upd.id, upd.n, coalesce(min(ins.id), 0), coalesce(max(ins.id), 0)
FROM upd LEFT JOIN ins ON ins.event_id = upd.id
GROUP BY upd.id, upd.n
ORDER BY upd.id`,
		ids, channels, expires, reasons, reports, userEv, users, groupEv, groups, companyEv, companies, tsOrNow(p.At))
	if err != nil {
		return nil, fmt.Errorf("postgres: event publish: %w", mapErr(err, ""))
	}
	var ranges []store.FeedRange
	for rows.Next() {
		var (
			r store.FeedRange
			n int64
		)
		if err := rows.Scan(&r.EventID, &n, &r.FirstID, &r.LastID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: event publish: %w", mapErr(err, ""))
		}
		out[r.EventID] = int(n)
		if r.FirstID != 0 {
			ranges = append(ranges, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: event publish: %w", mapErr(err, ""))
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

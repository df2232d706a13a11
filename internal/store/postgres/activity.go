package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// ActivityGet implements store.ConsoleViews. The hours already kept come
// from activity_hours; the hours sealed since are read once from the
// events (partial index on published_at) and the deliveries (partial
// index on their outcomes) and kept; the last hour or two are read fresh.
func (q *queries) ActivityGet(ctx context.Context, p *store.ActivityParams) ([]store.ActivityHour, error) {
	since := p.Since.UTC().Truncate(time.Hour)
	sealed := store.SealedBefore(p.Now)
	out := map[time.Time]*store.ActivityHour{}
	cols := store.KeptHourColumns()
	rows, err := q.db.Query(ctx, `SELECT `+strings.Join(cols, ", ")+`
		FROM activity_hours WHERE hour >= $1 AND hour < $2`, ts(since), ts(sealed))
	if err != nil {
		return nil, fmt.Errorf("postgres: activity: kept hours: %w", mapErr(err, ""))
	}
	for rows.Next() {
		var r store.KeptHourRow
		if err := rows.Scan(r.Dest()...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: activity: kept hours: %w", mapErr(err, ""))
		}
		h := r.Hour()
		out[h.Hour] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: activity: kept hours: %w", mapErr(err, ""))
	}
	first := time.Time{}
	for h := since; h.Before(sealed); h = h.Add(time.Hour) {
		if _, ok := out[h]; !ok {
			first = h
			break
		}
	}
	if !first.IsZero() {
		fresh, err := q.activityRaw(ctx, first, sealed)
		if err != nil {
			return nil, err
		}
		var hours []time.Time
		values := make([][]int64, len(cols)-1) // a column of values per column after the hour
		for h := first; h.Before(sealed); h = h.Add(time.Hour) {
			if _, ok := out[h]; ok {
				continue
			}
			a := fresh[h]
			if a == nil {
				a = store.EmptyHour(h)
			}
			out[h] = a
			hours = append(hours, ts(h))
			for i, v := range store.KeptHourValues(a) {
				values[i] = append(values[i], v)
			}
		}
		// One statement: all the hours or none.
		arrays := []string{"$1::timestamptz[]"}
		args := []any{hours}
		for i, v := range values {
			arrays = append(arrays, fmt.Sprintf("$%d::bigint[]", i+2))
			args = append(args, v)
		}
		if _, err := q.db.Exec(ctx, `INSERT INTO activity_hours (`+strings.Join(cols, ", ")+`)
			SELECT * FROM unnest(`+strings.Join(arrays, ", ")+`)
			ON CONFLICT (hour) DO NOTHING`, args...); err != nil {
			return nil, fmt.Errorf("postgres: activity: keep hours: %w", mapErr(err, ""))
		}
	}
	tail, err := q.activityRaw(ctx, sealed, time.Time{})
	if err != nil {
		return nil, err
	}
	for h, a := range tail {
		out[h] = a
	}
	return store.SortHours(out), nil
}

// activityRaw reads the activity of the hours from from to until (no end
// when zero) from the events and the deliveries.
func (q *queries) activityRaw(ctx context.Context, from, until time.Time) (map[time.Time]*store.ActivityHour, error) {
	if until.IsZero() {
		until = from.AddDate(1000, 0, 0)
	}
	var sums []string
	for _, ch := range store.Channels {
		sums = append(sums, fmt.Sprintf(`coalesce(sum((counts::jsonb->>'%s')::bigint), 0)`, ch))
	}
	rows, err := q.db.Query(ctx, `SELECT date_trunc('hour', published_at AT TIME ZONE 'UTC'), count(*), count(due_at),
			coalesce(max(CASE WHEN due_at < published_at THEN extract(epoch FROM published_at - due_at) * 1000 END), 0)::float8,
			`+strings.Join(sums, ", ")+`
		FROM events WHERE published_at >= $1 AND published_at < $2 AND published_at IS NOT NULL
		GROUP BY 1`, ts(from), ts(until))
	if err != nil {
		return nil, fmt.Errorf("postgres: activity: events: %w", mapErr(err, ""))
	}
	out := map[time.Time]*store.ActivityHour{}
	hour := func(t time.Time) *store.ActivityHour {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, time.UTC)
		if h, ok := out[t]; ok {
			return h
		}
		h := store.EmptyHour(t)
		out[t] = h
		return h
	}
	for rows.Next() {
		var at time.Time
		var events, scheduled int
		var lagMS float64
		counts := make([]int64, len(store.Channels))
		dst := []any{&at, &events, &scheduled, &lagMS}
		for i := range counts {
			dst = append(dst, &counts[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: activity: events: %w", mapErr(err, ""))
		}
		h := hour(at)
		h.Events, h.Scheduled = events, scheduled
		h.MaxLag = time.Duration(lagMS * float64(time.Millisecond)).Round(time.Millisecond)
		for i, ch := range store.Channels {
			if counts[i] > 0 {
				h.Reached[ch] = int(counts[i])
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: activity: events: %w", mapErr(err, ""))
	}
	drows, err := q.db.Query(ctx, `SELECT date_trunc('hour', updated_at AT TIME ZONE 'UTC'), state, count(*)
		FROM deliveries WHERE updated_at >= $1 AND updated_at < $2 AND state IN ('sent', 'failed', 'skipped')
		GROUP BY 1, 2`, ts(from), ts(until))
	if err != nil {
		return nil, fmt.Errorf("postgres: activity: e-mails: %w", mapErr(err, ""))
	}
	defer drows.Close()
	for drows.Next() {
		var at time.Time
		var state string
		var n int
		if err := drows.Scan(&at, &state, &n); err != nil {
			return nil, fmt.Errorf("postgres: activity: e-mails: %w", mapErr(err, ""))
		}
		hour(at).Emails[store.DeliveryState(state)] = n
	}
	if err := drows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: activity: e-mails: %w", mapErr(err, ""))
	}
	return out, nil
}

// UserCount implements store.ConsoleViews.
func (q *queries) UserCount(ctx context.Context, p *store.UserSearchParams) (int, error) {
	query := strings.TrimSpace(p.Query)
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM users
WHERE ($1 = '' OR id = $1 OR name ILIKE $2 OR email ILIKE $2)
    AND ($3 = '' OR follower_id = $3)`, query, likePattern(query), p.FollowerID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: user count: %w", mapErr(err, ""))
	}
	return n, nil
}

// UserNames implements store.ConsoleViews.
func (q *queries) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	return q.names(ctx, "user names", `SELECT id, name FROM users WHERE id = ANY($1)`, ids)
}

// CompanyNames implements store.ConsoleViews.
func (q *queries) CompanyNames(ctx context.Context, ids []string) (map[string]string, error) {
	return q.names(ctx, "company names", `SELECT id, name FROM companies WHERE id = ANY($1)`, ids)
}

func (q *queries) names(ctx context.Context, op, sql string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, sql, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, mapErr(err, ""))
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", op, mapErr(err, ""))
		}
		out[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, mapErr(err, ""))
	}
	return out, nil
}

// EventRecipients implements store.ConsoleViews, through the index on
// notifications (event_id, user_id, …) and the deliveries' unique
// (event_id, address).
func (q *queries) EventRecipients(ctx context.Context, p *store.EventRecipientsParams) (*store.EventRecipientsPage, error) {
	const people = `SELECT user_id FROM notifications WHERE event_id = $1
		UNION SELECT user_id FROM deliveries WHERE event_id = $1 AND user_id <> ''`
	fail := func(err error) (*store.EventRecipientsPage, error) {
		return nil, fmt.Errorf("postgres: event recipients: %w", mapErr(err, ""))
	}
	page := &store.EventRecipientsPage{}
	if err := q.db.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM (`+people+`) r),
			(SELECT count(*) FROM notifications WHERE event_id = $1),
			(SELECT count(read_at) FROM notifications WHERE event_id = $1),
			(SELECT count(*) FROM deliveries WHERE event_id = $1),
			(SELECT count(*) FROM deliveries WHERE event_id = $1 AND state = 'sent')`, p.EventID).
		Scan(&page.People, &page.InApp, &page.Read, &page.Emails, &page.Sent); err != nil {
		return fail(err)
	}
	rows, err := q.db.Query(ctx, `SELECT user_id FROM (`+people+`) r WHERE user_id > $2 ORDER BY user_id LIMIT $3`,
		p.EventID, p.AfterUserID, limit(p.Limit, 50, 500))
	if err != nil {
		return fail(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fail(err)
	}
	if len(ids) == 0 {
		return page, nil
	}
	names, err := q.UserNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	at := map[string]int{}
	for i, id := range ids {
		at[id] = i
		page.Recipients = append(page.Recipients, store.EventRecipient{UserID: id, Name: names[id]})
	}
	nrows, err := q.db.Query(ctx, `SELECT user_id, id, channel, visible_at, read_at FROM notifications
		WHERE event_id = $1 AND user_id = ANY($2) ORDER BY user_id, channel, id`, p.EventID, ids)
	if err != nil {
		return fail(err)
	}
	for nrows.Next() {
		var uid string
		var n store.RecipientNotification
		if err := nrows.Scan(&uid, &n.ID, &n.Channel, &n.VisibleAt, &n.ReadAt); err != nil {
			nrows.Close()
			return fail(err)
		}
		n.VisibleAt = n.VisibleAt.UTC()
		if n.ReadAt != nil {
			t := n.ReadAt.UTC()
			n.ReadAt = &t
		}
		r := &page.Recipients[at[uid]]
		r.InApp = append(r.InApp, n)
	}
	nrows.Close()
	if err := nrows.Err(); err != nil {
		return fail(err)
	}
	drows, err := q.db.Query(ctx, `SELECT user_id, id, address, state, sent_at FROM deliveries
		WHERE event_id = $1 AND user_id = ANY($2) ORDER BY user_id, id`, p.EventID, ids)
	if err != nil {
		return fail(err)
	}
	defer drows.Close()
	for drows.Next() {
		var uid string
		var e store.RecipientEmail
		if err := drows.Scan(&uid, &e.ID, &e.Address, &e.State, &e.SentAt); err != nil {
			return fail(err)
		}
		if e.SentAt != nil {
			t := e.SentAt.UTC()
			e.SentAt = &t
		}
		r := &page.Recipients[at[uid]]
		r.Emails = append(r.Emails, e)
	}
	if err := drows.Err(); err != nil {
		return fail(err)
	}
	return page, nil
}

// ReadRates implements store.ConsoleViews.
func (q *queries) ReadRates(ctx context.Context, since time.Time) ([]store.TypeReadRate, error) {
	rows, err := q.db.Query(ctx, `SELECT e.key, count(*), count(n.read_at)
		FROM events e JOIN notifications n ON n.event_id = e.id
		WHERE e.published_at >= $1
		GROUP BY e.key ORDER BY e.key`, ts(since))
	if err != nil {
		return nil, fmt.Errorf("postgres: read rates: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.TypeReadRate, error) {
		var t store.TypeReadRate
		err := r.Scan(&t.Key, &t.Notifications, &t.Read)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read rates: %w", mapErr(err, ""))
	}
	if out == nil {
		out = []store.TypeReadRate{}
	}
	return out, nil
}

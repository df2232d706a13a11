package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// hourLayout reads the hour prefix of a stored UTC datetime
// ("2026-12-03 15").
const hourLayout = "2006-01-02 15"

// ActivityGet implements store.ConsoleViews. The hours already kept come
// from activity_hours; the hours sealed since are read once from the
// events (partial index on published_at) and the deliveries (partial
// index on their outcomes) and kept; the last hour or two are read fresh.
func (q *queries) ActivityGet(ctx context.Context, p *store.ActivityParams) ([]store.ActivityHour, error) {
	since := p.Since.UTC().Truncate(time.Hour)
	sealed := store.SealedBefore(p.Now)
	out := map[time.Time]*store.ActivityHour{}
	cols := store.KeptHourColumns()
	rows, err := q.r.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+`
		FROM activity_hours WHERE hour >= ? AND hour < ?`, ts(since), ts(sealed))
	if err != nil {
		return nil, mapErr("activity: kept hours", err)
	}
	for rows.Next() {
		var r store.KeptHourRow
		if err := rows.Scan(r.Dest()...); err != nil {
			rows.Close()
			return nil, mapErr("activity: kept hours", err)
		}
		h := r.Hour()
		out[h.Hour] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr("activity: kept hours", err)
	}
	// The sealed hours not kept yet: read from the first of them on, keep
	// every one (an empty hour too, so that it is not read again).
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
		err = q.atomic(ctx, func(q *queries) error {
			for h := first; h.Before(sealed); h = h.Add(time.Hour) {
				if _, ok := out[h]; ok {
					continue
				}
				a := fresh[h]
				if a == nil {
					a = store.EmptyHour(h)
				}
				out[h] = a
				args := []any{ts(h)}
				for _, v := range store.KeptHourValues(a) {
					args = append(args, v)
				}
				if _, err := q.w.ExecContext(ctx, `INSERT INTO activity_hours (`+strings.Join(cols, ", ")+`)
					VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`) ON CONFLICT (hour) DO NOTHING`, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, mapErr("activity: keep hours", err)
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
		sums = append(sums, fmt.Sprintf(`coalesce(sum(json_extract(counts, '$.%s')), 0)`, ch))
	}
	rows, err := q.r.QueryContext(ctx, `SELECT substr(published_at, 1, 13), count(*), count(due_at),
			coalesce(max(CASE WHEN due_at < published_at THEN (julianday(published_at) - julianday(due_at)) * 86400000 END), 0),
			`+strings.Join(sums, ", ")+`
		FROM events WHERE published_at >= ? AND published_at < ? AND published_at IS NOT NULL
		GROUP BY 1`, ts(from), ts(until))
	if err != nil {
		return nil, mapErr("activity: events", err)
	}
	defer rows.Close()
	out := map[time.Time]*store.ActivityHour{}
	hour := func(key string) (*store.ActivityHour, error) {
		t, err := time.ParseInLocation(hourLayout, key, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("sqlite: activity: hour %q: %w", key, err)
		}
		if h, ok := out[t]; ok {
			return h, nil
		}
		h := store.EmptyHour(t)
		out[t] = h
		return h, nil
	}
	for rows.Next() {
		var key string
		var events, scheduled int
		var lagMS float64
		counts := make([]int, len(store.Channels))
		dst := []any{&key, &events, &scheduled, &lagMS}
		for i := range counts {
			dst = append(dst, &counts[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, mapErr("activity: events", err)
		}
		h, err := hour(key)
		if err != nil {
			return nil, err
		}
		h.Events, h.Scheduled = events, scheduled
		h.MaxLag = time.Duration(lagMS * float64(time.Millisecond)).Round(time.Millisecond)
		for i, ch := range store.Channels {
			if counts[i] > 0 {
				h.Reached[ch] = counts[i]
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("activity: events", err)
	}
	// INDEXED BY: without statistics (no ANALYZE yet) SQLite may take the
	// index on (state, id) for the IN and read every delivery ever ended.
	drows, err := q.r.QueryContext(ctx, `SELECT substr(updated_at, 1, 13), state, count(*)
		FROM deliveries INDEXED BY deliveries_outcomes
		WHERE updated_at >= ? AND updated_at < ? AND state IN ('sent', 'failed', 'skipped')
		GROUP BY 1, 2`, ts(from), ts(until))
	if err != nil {
		return nil, mapErr("activity: e-mails", err)
	}
	defer drows.Close()
	for drows.Next() {
		var key, state string
		var n int
		if err := drows.Scan(&key, &state, &n); err != nil {
			return nil, mapErr("activity: e-mails", err)
		}
		h, err := hour(key)
		if err != nil {
			return nil, err
		}
		h.Emails[store.DeliveryState(state)] = n
	}
	return out, mapErr("activity: e-mails", drows.Err())
}

// UserCount implements store.ConsoleViews.
func (q *queries) UserCount(ctx context.Context, p *store.UserSearchParams) (int, error) {
	query := strings.TrimSpace(p.Query)
	like := likePattern(query)
	var n int
	err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM users u
		WHERE (? = '' OR u.id = ? OR u.name LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')
			AND (? = '' OR u.follower_id = ?)`,
		query, query, like, like, p.FollowerID, p.FollowerID).Scan(&n)
	return n, mapErr("user count", err)
}

// UserNames implements store.ConsoleViews.
func (q *queries) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	return q.names(ctx, "user names", `SELECT id, name FROM users WHERE id IN (SELECT value FROM json_each(?))`, ids)
}

// CompanyNames implements store.ConsoleViews.
func (q *queries) CompanyNames(ctx context.Context, ids []string) (map[string]string, error) {
	return q.names(ctx, "company names", `SELECT id, name FROM companies WHERE id IN (SELECT value FROM json_each(?))`, ids)
}

func (q *queries) names(ctx context.Context, op, query string, ids []string) (map[string]string, error) {
	out := map[string]string{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.r.QueryContext(ctx, query, jsonList(ids))
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, mapErr(op, err)
		}
		out[id] = name
	}
	return out, mapErr(op, rows.Err())
}

// EventRecipients implements store.ConsoleViews, through the index on
// notifications (event_id, user_id, …) and the deliveries' unique
// (event_id, address).
func (q *queries) EventRecipients(ctx context.Context, p *store.EventRecipientsParams) (*store.EventRecipientsPage, error) {
	const people = `SELECT user_id FROM notifications WHERE event_id = ?
		UNION SELECT user_id FROM deliveries WHERE event_id = ? AND user_id <> ''`
	page := &store.EventRecipientsPage{}
	if err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM (`+people+`)`, p.EventID, p.EventID).Scan(&page.People); err != nil {
		return nil, mapErr("event recipients", err)
	}
	if err := q.r.QueryRowContext(ctx, `SELECT count(*), count(read_at) FROM notifications WHERE event_id = ?`,
		p.EventID).Scan(&page.InApp, &page.Read); err != nil {
		return nil, mapErr("event recipients", err)
	}
	if err := q.r.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'sent') FROM deliveries WHERE event_id = ?`,
		p.EventID).Scan(&page.Emails, &page.Sent); err != nil {
		return nil, mapErr("event recipients", err)
	}
	rows, err := q.r.QueryContext(ctx, `SELECT user_id FROM (`+people+`) WHERE user_id > ? ORDER BY user_id LIMIT ?`,
		p.EventID, p.EventID, p.AfterUserID, clampLimit(p.Limit, 50, 500))
	if err != nil {
		return nil, mapErr("event recipients", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, mapErr("event recipients", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, mapErr("event recipients", err)
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
	list := jsonList(ids)
	nrows, err := q.r.QueryContext(ctx, `SELECT user_id, id, channel, visible_at, read_at FROM notifications
		WHERE event_id = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, channel, id`, p.EventID, list)
	if err != nil {
		return nil, mapErr("event recipients", err)
	}
	defer nrows.Close()
	for nrows.Next() {
		var uid string
		var n store.RecipientNotification
		var read sql.NullTime
		if err := nrows.Scan(&uid, &n.ID, &n.Channel, &n.VisibleAt, &read); err != nil {
			return nil, mapErr("event recipients", err)
		}
		n.VisibleAt, n.ReadAt = n.VisibleAt.UTC(), timePtr(read)
		r := &page.Recipients[at[uid]]
		r.InApp = append(r.InApp, n)
	}
	if err := nrows.Err(); err != nil {
		return nil, mapErr("event recipients", err)
	}
	drows, err := q.r.QueryContext(ctx, `SELECT user_id, id, address, state, sent_at FROM deliveries
		WHERE event_id = ? AND user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, id`, p.EventID, list)
	if err != nil {
		return nil, mapErr("event recipients", err)
	}
	defer drows.Close()
	for drows.Next() {
		var uid string
		var e store.RecipientEmail
		var sent sql.NullTime
		if err := drows.Scan(&uid, &e.ID, &e.Address, &e.State, &sent); err != nil {
			return nil, mapErr("event recipients", err)
		}
		e.SentAt = timePtr(sent)
		r := &page.Recipients[at[uid]]
		r.Emails = append(r.Emails, e)
	}
	return page, mapErr("event recipients", drows.Err())
}

// ReadRates implements store.ConsoleViews: the events published since
// then by their partial index, their notifications' read_at from the
// index on notifications (event_id, …, read_at).
func (q *queries) ReadRates(ctx context.Context, since time.Time) ([]store.TypeReadRate, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT e.key, count(*), count(n.read_at)
		FROM events e JOIN notifications n ON n.event_id = e.id
		WHERE e.published_at >= ? AND e.published_at IS NOT NULL
		GROUP BY e.key ORDER BY e.key`, ts(since))
	if err != nil {
		return nil, mapErr("read rates", err)
	}
	defer rows.Close()
	out := []store.TypeReadRate{}
	for rows.Next() {
		var r store.TypeReadRate
		if err := rows.Scan(&r.Key, &r.Notifications, &r.Read); err != nil {
			return nil, mapErr("read rates", err)
		}
		out = append(out, r)
	}
	return out, mapErr("read rates", rows.Err())
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// The realtime feed. SQLite has one writer at a time and gives a new row the
// id after the greatest, so ids are assigned in commit order: a reader that
// polls "ids after the last I saw" misses nothing. NotificationPurge keeps
// the newest notification so that ids are never reused; the change log uses
// AUTOINCREMENT for the same reason.

// NotificationFeed implements store.Queries. It reads the notifications'
// own columns, then their events once each: a fan-out's rows share one
// event (title, body) and one creation time, which are read, copied and
// parsed once rather than per row. NOT INDEXED keeps the planner on the
// rowid range (ids after X, or in a range) rather than the per-user index.
func (q *queries) NotificationFeed(ctx context.Context, p *store.NotificationFeedParams) ([]store.InboxItem, error) {
	var b strings.Builder
	var args []any
	b.WriteString(`SELECT n.id, n.event_id, n.user_id, n.channel,
		n.created_at || '', n.visible_at || '', n.expires_at || '', n.read_at || ''`)
	if len(p.Ranges) > 0 {
		ranges := make([][3]int64, len(p.Ranges))
		for i, r := range p.Ranges {
			ranges[i] = [3]int64{r.FirstID, r.LastID, r.EventID}
		}
		raw, _ := json.Marshal(ranges)
		// CROSS JOIN fixes the order: each range, then its rows by rowid.
		b.WriteString(` FROM json_each(?) r CROSS JOIN notifications n NOT INDEXED
		WHERE n.id BETWEEN r.value ->> 0 AND r.value ->> 1 AND n.event_id = r.value ->> 2`)
		args = append(args, string(raw))
	} else {
		b.WriteString(` FROM notifications n NOT INDEXED WHERE n.id > ?`)
		args = append(args, p.AfterID)
	}
	if len(p.UserIDs) > 0 {
		b.WriteString(` AND n.user_id IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(p.UserIDs))
	}
	b.WriteString(` ORDER BY n.id LIMIT ?`)
	lim := clampLimit(p.Limit, 1000, 100000)
	args = append(args, lim)
	rows, err := q.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, mapErr("notification feed", err)
	}
	defer rows.Close()
	out := make([]store.InboxItem, 0, p.Capacity(lim))
	times := timeCache{}
	for rows.Next() {
		var it store.InboxItem
		var ch, created, visible string
		var expires, read sql.NullString
		if err := rows.Scan(&it.ID, &it.EventID, &it.UserID, &ch, &created, &visible, &expires, &read); err != nil {
			return nil, mapErr("notification feed", err)
		}
		it.Channel = store.Channel(ch)
		if it.CreatedAt, err = times.parse(created); err == nil {
			if it.VisibleAt, err = times.parse(visible); err == nil {
				if it.ExpiresAt, err = times.parseNull(expires); err == nil {
					it.ReadAt, err = times.parseNull(read)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: notification feed: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("notification feed", err)
	}
	return q.withEvents(ctx, out)
}

// withEvents fills in the items' event fields, reading each event once;
// items whose event is gone are left out.
func (q *queries) withEvents(ctx context.Context, items []store.InboxItem) ([]store.InboxItem, error) {
	if len(items) == 0 {
		return items, nil
	}
	events, err := q.loadEvents(ctx, store.DistinctEventIDs(items))
	if err != nil {
		return nil, err
	}
	return store.FillEventFields(items, events), nil
}

// loadEvents reads what inbox items show of the events ids (a
// store.EventLoader).
func (q *queries) loadEvents(ctx context.Context, ids []int64) (map[int64]store.EventFields, error) {
	raw, _ := json.Marshal(ids)
	rows, err := q.r.QueryContext(ctx, `SELECT e.id, e.key, coalesce(t.status_type, 'neutral'), e.title, e.body, e.context_type, e.context_id,
			e.url, e.actions
		FROM events e LEFT JOIN notification_types t ON t.key = e.key
		WHERE e.id IN (SELECT value FROM json_each(?))`, string(raw))
	if err != nil {
		return nil, mapErr("notification events", err)
	}
	defer rows.Close()
	events := make(map[int64]store.EventFields, len(ids))
	for rows.Next() {
		var id int64
		var e store.EventFields
		var actions string
		if err := rows.Scan(&id, &e.Key, &e.StatusType, &e.Title, &e.Body, &e.ContextType, &e.ContextID, &e.URL, &actions); err != nil {
			return nil, mapErr("notification events", err)
		}
		e.Actions = store.ItemActions(store.UnmarshalActions(actions))
		events[id] = e
	}
	return events, mapErr("notification events", rows.Err())
}

// loadStatusTypes reads every type's status mark (a store.StatusTypeLoader).
func (q *queries) loadStatusTypes(ctx context.Context) (map[string]store.StatusType, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT key, status_type FROM notification_types`)
	if err != nil {
		return nil, mapErr("notification types", err)
	}
	defer rows.Close()
	marks := map[string]store.StatusType{}
	for rows.Next() {
		var key, st string
		if err := rows.Scan(&key, &st); err != nil {
			return nil, mapErr("notification types", err)
		}
		marks[key] = store.StatusType(st)
	}
	return marks, mapErr("notification types", rows.Err())
}

// timeCache parses the text form of stored times (storedtime.go), once per
// distinct value.
type timeCache map[string]time.Time

func (c timeCache) parse(s string) (time.Time, error) {
	if t, ok := c[s]; ok {
		return t, nil
	}
	t, err := parseStoredTime(s)
	if err != nil {
		return time.Time{}, err
	}
	c[s] = t
	return t, nil
}

func (c timeCache) parseNull(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := c.parse(s.String)
	return &t, err
}

// NotificationSince implements store.Queries. The channel list lets the
// inbox index (user, channel, visible_at, …) seek to each channel's rows
// visible from CreatedAfter on: a row is never visible before it is created.
func (q *queries) NotificationSince(ctx context.Context, p *store.NotificationSinceParams) ([]store.InboxItem, error) {
	after := ts(p.CreatedAfter)
	return q.inboxItems(ctx, "notification since", inboxSelect+`
		WHERE n.user_id = ? AND n.channel IN ('message', 'header_message', 'alert')
		AND n.visible_at > ? AND n.created_at > ? AND n.id > ?
		ORDER BY n.id LIMIT ?`,
		p.UserID, after, after, p.AfterID, clampLimit(p.Limit, 1000, 100000))
}

func (q *queries) inboxItems(ctx context.Context, op, query string, args ...any) ([]store.InboxItem, error) {
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	out := []store.InboxItem{}
	for rows.Next() {
		it, err := scanInbox(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, it)
	}
	return out, mapErr(op, rows.Err())
}

// NotificationCountUnreadMany implements store.Queries: one query, one seek
// of the inbox index per user (times compared as in NotificationCountUnread).
func (q *queries) NotificationCountUnreadMany(ctx context.Context, userIDs []string, now time.Time) (map[string]map[store.Channel]int, error) {
	out := make(map[string]map[store.Channel]int, len(userIDs))
	for _, u := range userIDs {
		out[u] = map[store.Channel]int{store.ChannelMessage: 0, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0}
	}
	if len(userIDs) == 0 {
		return out, nil
	}
	now = ts(now)
	rows, err := q.r.QueryContext(ctx, `SELECT user_id, channel, count(*) FROM notifications
		WHERE user_id IN (SELECT value FROM json_each(?)) AND read_at IS NULL AND archived_at IS NULL AND +visible_at <= ?
		AND (expires_at IS NULL OR +expires_at > ?)
		GROUP BY user_id, channel`, jsonList(userIDs), now, now)
	if err != nil {
		return nil, mapErr("notification count many", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u, ch string
		var n int
		if err := rows.Scan(&u, &ch, &n); err != nil {
			return nil, mapErr("notification count many", err)
		}
		if m := out[u]; m != nil {
			m[store.Channel(ch)] = n
		}
	}
	return out, mapErr("notification count many", rows.Err())
}

// changeInsert logs a change; it runs in the caller's transaction.
func (q *queries) changeInsert(ctx context.Context, c *store.NotificationChange) error {
	_, err := q.w.ExecContext(ctx, `INSERT INTO notification_changes
		(user_id, kind, notification_id, channel, effective_at, affected, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.UserID, string(c.Kind), c.NotificationID, string(c.Channel), ts(c.At), c.Count, ts(c.CreatedAt))
	return mapErr("change insert", err)
}

// ChangeList implements store.Queries.
func (q *queries) ChangeList(ctx context.Context, p *store.ChangeListParams) ([]store.NotificationChange, error) {
	var where []string
	var args []any
	if len(p.IDs) > 0 {
		raw, _ := json.Marshal(p.IDs)
		where, args = append(where, "id IN (SELECT value FROM json_each(?))"), append(args, string(raw))
	} else {
		where, args = append(where, "id > ?"), append(args, p.AfterID)
	}
	if p.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, p.UserID)
	}
	args = append(args, clampLimit(p.Limit, 1000, 100000))
	rows, err := q.r.QueryContext(ctx, `SELECT id, user_id, kind, notification_id, channel, effective_at, affected, created_at
		FROM notification_changes WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, mapErr("change list", err)
	}
	defer rows.Close()
	out := []store.NotificationChange{}
	for rows.Next() {
		var c store.NotificationChange
		var kind, ch string
		if err := rows.Scan(&c.ID, &c.UserID, &kind, &c.NotificationID, &ch, &c.At, &c.Count, &c.CreatedAt); err != nil {
			return nil, mapErr("change list", err)
		}
		c.Kind, c.Channel = store.ChangeKind(kind), store.Channel(ch)
		c.At, c.CreatedAt = c.At.UTC(), c.CreatedAt.UTC()
		out = append(out, c)
	}
	return out, mapErr("change list", rows.Err())
}

// ChangePurge implements store.Queries.
func (q *queries) ChangePurge(ctx context.Context, p *store.ChangePurgeParams) (int, error) {
	res, err := q.w.ExecContext(ctx, `DELETE FROM notification_changes WHERE id IN (
		SELECT id FROM notification_changes WHERE created_at < ? LIMIT ?)`,
		ts(p.Before), clampLimit(p.Limit, 10000, 1000000))
	if err != nil {
		return 0, mapErr("change purge", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("change purge", err)
}

// FeedHead implements store.Queries.
func (q *queries) FeedHead(ctx context.Context) (store.FeedHead, error) {
	var h store.FeedHead
	err := q.r.QueryRowContext(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM notifications),
		(SELECT coalesce(max(id), 0) FROM notification_changes)`).Scan(&h.NotificationID, &h.ChangeID)
	return h, mapErr("feed head", err)
}

// nowIfZero is ts(t), or the current time when t is zero.
func nowIfZero(t time.Time) time.Time {
	if t.IsZero() {
		return ts(time.Now())
	}
	return ts(t)
}

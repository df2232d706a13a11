package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// The realtime feed. Concurrent transactions take notification ids from one
// sequence but may commit in another order, so nobody can read "ids after
// the last I saw" safely. Instead every writer sends a NOTIFY from inside
// its transaction, delivered to every listening process on commit, in
// commit order, naming exactly what it wrote: the id range and event of a
// fan-out, or the id of a change log entry. Changes of one user are
// serialised by an advisory lock, so that their ids follow commit order
// for that user (a resuming stream reads "that user's changes after X").

// Signal payloads: "n:EVENT:FIRST:LAST", "c:CHANGE:USER", "r".
const (
	signalNotifications = "n"
	signalChange        = "c"
	signalResync        = "r"
	// maxSignalUser bounds the user id carried by a change signal (NOTIFY
	// payloads stop at 8000 bytes); a longer one is left out and read back.
	maxSignalUser = 1000
)

// feedChannel is the NOTIFY channel of the feed of a schema: schemas of one
// database (tests use one each) do not hear each other.
func feedChannel(schema string) string {
	ch := "cloche_feed:" + schema
	if len(ch) > 63 { // PostgreSQL truncates identifiers to 63 bytes
		h := fnv.New64a()
		h.Write([]byte(schema))
		ch = fmt.Sprintf("cloche_feed:%x", h.Sum64())
	}
	return ch
}

// signal sends a payload on the feed channel, delivered when the current
// transaction commits.
func (q *queries) signal(ctx context.Context, payload string) error {
	if _, err := q.db.Exec(ctx, `SELECT pg_notify($1, $2)`, q.feed, payload); err != nil {
		return fmt.Errorf("postgres: feed signal: %w", mapErr(err, ""))
	}
	return nil
}

// maxSignalPayload bounds a NOTIFY payload (PostgreSQL refuses 8000 bytes
// and more).
const maxSignalPayload = 7900

// signalRange sends the id range of a fan-out on the feed channel. In a
// transaction begun by InTx, it is only noted: the ranges of the whole
// transaction go in one NOTIFY just before it commits (flushSignals), so
// that a batch of notifies sends one signal rather than one each. A range
// noted in a savepoint that rolls back is dropped with it (Savepoint).
func (q *queries) signalRange(ctx context.Context, r store.FeedRange) error {
	if q.ranges == nil {
		return q.signal(ctx, signalNotifications+rangeText(r))
	}
	*q.ranges = append(*q.ranges, r)
	return nil
}

// rangeText is ":EVENT:FIRST:LAST".
func rangeText(r store.FeedRange) string {
	return ":" + strconv.FormatInt(r.EventID, 10) + ":" + strconv.FormatInt(r.FirstID, 10) + ":" + strconv.FormatInt(r.LastID, 10)
}

// flushSignals sends the ranges noted in the transaction: as few NOTIFYs
// as payloads allow, "n:E1:F1:L1:E2:F2:L2:...", in the order noted.
func (q *queries) flushSignals(ctx context.Context) error {
	if q.ranges == nil || len(*q.ranges) == 0 {
		return nil
	}
	var payloads []string
	var b strings.Builder
	for _, r := range *q.ranges {
		t := rangeText(r)
		if b.Len() > 0 && b.Len()+len(t) > maxSignalPayload {
			payloads = append(payloads, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(signalNotifications)
		}
		b.WriteString(t)
	}
	payloads = append(payloads, b.String())
	*q.ranges = (*q.ranges)[:0]
	if len(payloads) == 1 {
		return q.signal(ctx, payloads[0])
	}
	if _, err := q.db.Exec(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i) ORDER BY i`, q.feed, payloads); err != nil {
		return fmt.Errorf("postgres: feed signal: %w", mapErr(err, ""))
	}
	return nil
}

// parseSignal reads a payload sent by signal: one signal, or several for
// a payload of several notification ranges.
func parseSignal(payload string) ([]store.FeedSignal, bool) {
	parts := strings.SplitN(payload, ":", 4)
	num := func(s string) int64 {
		n, _ := strconv.ParseInt(s, 10, 64)
		return n
	}
	switch parts[0] {
	case signalNotifications:
		nums := strings.Split(payload, ":")[1:]
		if len(nums) == 0 || len(nums)%3 != 0 {
			return nil, false
		}
		sigs := make([]store.FeedSignal, 0, len(nums)/3)
		for i := 0; i < len(nums); i += 3 {
			r := store.FeedRange{EventID: num(nums[i]), FirstID: num(nums[i+1]), LastID: num(nums[i+2])}
			if r.FirstID <= 0 || r.LastID < r.FirstID {
				return nil, false
			}
			sigs = append(sigs, store.FeedSignal{Kind: store.SignalNotifications, Range: r})
		}
		return sigs, true
	case signalChange:
		parts = strings.SplitN(payload, ":", 3)
		sig := store.FeedSignal{Kind: store.SignalChange}
		if len(parts) > 1 {
			sig.ChangeID = num(parts[1])
		}
		if len(parts) == 3 {
			sig.UserID = parts[2]
		}
		return []store.FeedSignal{sig}, sig.ChangeID > 0
	case signalResync:
		return []store.FeedSignal{{Kind: store.SignalResync}}, true
	}
	return nil, false
}

// lockChanges serialises the changes of one user until the transaction
// ends, so that their change ids are taken in commit order.
func (q *queries) lockChanges(ctx context.Context, userID string) error {
	_, err := q.db.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "cloche.changes:"+userID)
	if err != nil {
		return fmt.Errorf("postgres: lock changes of %q: %w", userID, mapErr(err, ""))
	}
	return nil
}

// changeInsert logs a change and signals it; it runs in the caller's
// transaction, after lockChanges.
func (q *queries) changeInsert(ctx context.Context, c *store.NotificationChange) error {
	err := q.db.QueryRow(ctx, `
INSERT INTO notification_changes (user_id, kind, notification_id, channel, effective_at, affected, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		c.UserID, string(c.Kind), c.NotificationID, string(c.Channel), ts(c.At), c.Count, ts(c.CreatedAt)).Scan(&c.ID)
	if err != nil {
		return fmt.Errorf("postgres: change insert: %w", mapErr(err, ""))
	}
	user := c.UserID
	if len(user) > maxSignalUser {
		user = ""
	}
	return q.signal(ctx, signalChange+":"+strconv.FormatInt(c.ID, 10)+":"+user)
}

// NotificationFeed implements store.Queries. It reads the notifications'
// own columns, then their events once each: a fan-out's rows share one
// event, whose title and body are read and copied once rather than per row.
func (q *queries) NotificationFeed(ctx context.Context, p *store.NotificationFeedParams) ([]store.InboxItem, error) {
	var w where
	from := `SELECT n.id, n.event_id, n.user_id, n.channel, n.created_at, n.visible_at, n.expires_at, n.read_at
FROM notifications n`
	if len(p.Ranges) > 0 {
		events, firsts, lasts := make([]int64, len(p.Ranges)), make([]int64, len(p.Ranges)), make([]int64, len(p.Ranges))
		for i, r := range p.Ranges {
			events[i], firsts[i], lasts[i] = r.EventID, r.FirstID, r.LastID
		}
		from += `
JOIN unnest(` + w.arg(events) + `::bigint[], ` + w.arg(firsts) + `::bigint[], ` + w.arg(lasts) + `::bigint[]) AS r(event_id, first_id, last_id)
    ON n.id BETWEEN r.first_id AND r.last_id AND n.event_id = r.event_id`
	} else {
		w.add("n.id > ?", p.AfterID)
	}
	if len(p.UserIDs) > 0 {
		w.add("n.user_id = ANY(?::text[])", p.UserIDs)
	}
	lim := limit(p.Limit, 1000, 100000)
	rows, err := q.db.Query(ctx, from+w.sql()+` ORDER BY n.id LIMIT `+w.arg(lim), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: notification feed: %w", mapErr(err, ""))
	}
	items, err := pgx.AppendRows(make([]store.InboxItem, 0, p.Capacity(lim)), rows, func(r pgx.CollectableRow) (store.InboxItem, error) {
		var it store.InboxItem
		err := r.Scan(&it.ID, &it.EventID, &it.UserID, &it.Channel, &it.CreatedAt, &it.VisibleAt, &it.ExpiresAt, &it.ReadAt)
		it.CreatedAt, it.VisibleAt = it.CreatedAt.UTC(), it.VisibleAt.UTC()
		it.ExpiresAt, it.ReadAt = utcPtr(it.ExpiresAt), utcPtr(it.ReadAt)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification feed: %w", mapErr(err, ""))
	}
	return q.withEvents(ctx, items)
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
	rows, err := q.db.Query(ctx, `
SELECT e.id, e.key, t.status_type, e.title, e.body, e.context_type, e.context_id, e.url, e.actions
FROM events e JOIN notification_types t ON t.key = e.key
WHERE e.id = ANY($1::bigint[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: notification events: %w", mapErr(err, ""))
	}
	events := make(map[int64]store.EventFields, len(ids))
	var (
		id      int64
		e       store.EventFields
		actions string
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &e.Key, &e.StatusType, &e.Title, &e.Body, &e.ContextType, &e.ContextID, &e.URL, &actions}, func() error {
		e.Actions = store.ItemActions(store.UnmarshalActions(actions))
		events[id] = e
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification events: %w", mapErr(err, ""))
	}
	return events, nil
}

// loadStatusTypes reads every type's status mark (a store.StatusTypeLoader).
func (q *queries) loadStatusTypes(ctx context.Context) (map[string]store.StatusType, error) {
	rows, err := q.db.Query(ctx, `SELECT key, status_type FROM notification_types`)
	if err != nil {
		return nil, fmt.Errorf("postgres: notification types: %w", mapErr(err, ""))
	}
	marks := map[string]store.StatusType{}
	var key, st string
	_, err = pgx.ForEachRow(rows, []any{&key, &st}, func() error {
		marks[key] = store.StatusType(st)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification types: %w", mapErr(err, ""))
	}
	return marks, nil
}

// NotificationSince implements store.Queries. The channel list lets the
// inbox index (user, channel, visible_at, …) seek to each channel's rows
// visible from CreatedAfter on: a row is never visible before it is created.
func (q *queries) NotificationSince(ctx context.Context, p *store.NotificationSinceParams) ([]store.InboxItem, error) {
	return q.inboxItems(ctx, "notification since", inboxSelect+`
WHERE n.user_id = $1 AND n.channel = ANY('{message,header_message,alert}'::text[])
    AND n.visible_at > $2 AND n.created_at > $2 AND n.id > $3
ORDER BY n.id LIMIT $4`,
		p.UserID, ts(p.CreatedAfter), p.AfterID, limit(p.Limit, 1000, 100000))
}

func (q *queries) inboxItems(ctx context.Context, op, sql string, args ...any) ([]store.InboxItem, error) {
	rows, err := q.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboxItem, error) { return scanInboxItem(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, mapErr(err, ""))
	}
	return out, nil
}

// NotificationCountUnreadMany implements store.Queries.
func (q *queries) NotificationCountUnreadMany(ctx context.Context, userIDs []string, now time.Time) (map[string]map[store.Channel]int, error) {
	out := make(map[string]map[store.Channel]int, len(userIDs))
	for _, u := range userIDs {
		out[u] = map[store.Channel]int{store.ChannelMessage: 0, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0}
	}
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := q.db.Query(ctx, `
SELECT user_id, channel, count(*) FROM notifications
WHERE user_id = ANY($1::text[]) AND read_at IS NULL AND archived_at IS NULL AND visible_at <= $2
    AND (expires_at IS NULL OR expires_at > $2)
GROUP BY user_id, channel`, userIDs, tsOrNow(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: notification count many: %w", mapErr(err, ""))
	}
	var (
		user, channel string
		n             int
	)
	_, err = pgx.ForEachRow(rows, []any{&user, &channel, &n}, func() error {
		if m := out[user]; m != nil {
			m[store.Channel(channel)] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification count many: %w", mapErr(err, ""))
	}
	return out, nil
}

// ChangeList implements store.Queries.
func (q *queries) ChangeList(ctx context.Context, p *store.ChangeListParams) ([]store.NotificationChange, error) {
	var w where
	if len(p.IDs) > 0 {
		w.add("id = ANY(?::bigint[])", p.IDs)
	} else {
		w.add("id > ?", p.AfterID)
	}
	if p.UserID != "" {
		w.add("user_id = ?", p.UserID)
	}
	rows, err := q.db.Query(ctx, `
SELECT id, user_id, kind, notification_id, channel, effective_at, affected, created_at
FROM notification_changes`+w.sql()+` ORDER BY id LIMIT `+w.arg(limit(p.Limit, 1000, 100000)), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: change list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.NotificationChange, error) {
		var c store.NotificationChange
		var kind, ch string
		err := r.Scan(&c.ID, &c.UserID, &kind, &c.NotificationID, &ch, &c.At, &c.Count, &c.CreatedAt)
		c.Kind, c.Channel = store.ChangeKind(kind), store.Channel(ch)
		c.At, c.CreatedAt = c.At.UTC(), c.CreatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: change list: %w", mapErr(err, ""))
	}
	return out, nil
}

// ChangePurge implements store.Queries.
func (q *queries) ChangePurge(ctx context.Context, p *store.ChangePurgeParams) (int, error) {
	tag, err := q.db.Exec(ctx, `
DELETE FROM notification_changes WHERE id IN (
    SELECT id FROM notification_changes WHERE created_at < $1 LIMIT $2)`,
		ts(p.Before), limit(p.Limit, defaultPurgeLimit, 1000000))
	if err != nil {
		return 0, fmt.Errorf("postgres: change purge: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// FeedHead implements store.Queries.
func (q *queries) FeedHead(ctx context.Context) (store.FeedHead, error) {
	var h store.FeedHead
	err := q.db.QueryRow(ctx, `SELECT (SELECT coalesce(max(id), 0) FROM notifications),
    (SELECT coalesce(max(id), 0) FROM notification_changes)`).Scan(&h.NotificationID, &h.ChangeID)
	if err != nil {
		return h, fmt.Errorf("postgres: feed head: %w", mapErr(err, ""))
	}
	return h, nil
}

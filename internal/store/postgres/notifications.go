package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// Page sizes of NotificationList, and the batch of NotificationPurge when
// its Limit is not set.
const (
	defaultInboxLimit = 20
	maxInboxLimit     = 200
	defaultPurgeLimit = 1000
)

// NotificationInsertMany creates one unread notification per user of
// p.UserIDs (repeats ignored), visible from p.CreatedAt (now when zero),
// with COPY. It returns how many were created.
func (q *queries) NotificationInsertMany(ctx context.Context, p *store.NotificationInsertManyParams) (int, error) {
	if !p.Channel.Notifies() {
		return 0, fmt.Errorf("postgres: notification insert: %w",
			store.Invalid("channel", "%q is not an in-app channel", p.Channel))
	}
	users := store.Dedupe(p.UserIDs)
	if len(users) == 0 {
		return 0, nil
	}
	created := tsOrNow(p.CreatedAt)
	expires := tsPtr(p.ExpiresAt)
	channel := string(p.Channel)
	var n int64
	// COPY does not tell the ids it gave: the feed's listeners are told to
	// catch up from the database instead.
	err := q.atomic(ctx, func(q *queries) error {
		var err error
		n, err = q.db.CopyFrom(ctx, pgx.Identifier{"notifications"},
			[]string{"event_id", "user_id", "channel", "created_at", "visible_at", "expires_at"},
			pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
				return []any{p.EventID, users[i], channel, created, created, expires}, nil
			}))
		if err != nil {
			return mapErr(err, "")
		}
		return q.signal(ctx, signalResync)
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: notification insert: %w", err)
	}
	return int(n), nil
}

const inboxSelect = `
SELECT n.id, n.event_id, n.user_id, n.channel, e.key, t.status_type, e.title, e.body,
    e.context_type, e.context_id, n.created_at, n.visible_at, n.expires_at, n.read_at,
    e.url, e.actions, n.archived_at
FROM notifications n
JOIN events e ON e.id = n.event_id
JOIN notification_types t ON t.key = e.key`

func scanInboxItem(row pgx.Row) (store.InboxItem, error) {
	var it store.InboxItem
	var actions string
	err := row.Scan(&it.ID, &it.EventID, &it.UserID, &it.Channel, &it.Key, &it.StatusType,
		&it.Title, &it.Body, &it.ContextType, &it.ContextID, &it.CreatedAt, &it.VisibleAt,
		&it.ExpiresAt, &it.ReadAt, &it.URL, &actions, &it.ArchivedAt)
	it.CreatedAt, it.VisibleAt = it.CreatedAt.UTC(), it.VisibleAt.UTC()
	it.ExpiresAt, it.ReadAt, it.ArchivedAt = utcPtr(it.ExpiresAt), utcPtr(it.ReadAt), utcPtr(it.ArchivedAt)
	it.Actions = store.ItemActions(store.UnmarshalActions(actions))
	return it, err
}

// NotificationList returns a page of p.UserID's visible, unexpired
// notifications, newest visible first, after p.Cursor when given. It reads
// the notifications' own columns from the inbox index, (user, channel,
// visible_at, id), backwards and at most a page of it, then fills in their
// events (p.Events keeps those between reads): a page no longer joins
// every row to its event and type (issue 14, "Cold inbox reads"). Every
// channel (p.Channel empty) reads each channel's range and merges them, so
// that it never reads and sorts the whole inbox; a cursor starts the range
// where the last page ended.
func (q *queries) NotificationList(ctx context.Context, p *store.NotificationListParams) ([]store.InboxItem, error) {
	var w where
	user, now := w.arg(p.UserID), w.arg(tsOrNow(p.Now))
	lim := w.arg(limit(p.Limit, defaultInboxLimit, maxInboxLimit))
	conds := `n.user_id = ` + user + ` AND n.visible_at <= ` + now + ` AND (n.expires_at IS NULL OR n.expires_at > ` + now + `)`
	if p.UnreadOnly {
		conds += ` AND n.read_at IS NULL`
	}
	if p.Archived {
		conds += ` AND n.archived_at IS NOT NULL`
	} else {
		conds += ` AND n.archived_at IS NULL`
	}
	if p.Cursor != nil {
		conds += ` AND (n.visible_at, n.id) < (` + w.arg(ts(p.Cursor.VisibleAt)) + `, ` + w.arg(p.Cursor.ID) + `)`
	}
	const columns = `n.id, n.event_id, n.channel, n.created_at, n.visible_at, n.expires_at, n.read_at, n.archived_at`
	var sql string
	if p.Channel != "" {
		// One channel: its range of the index in the order asked.
		sql = `SELECT ` + columns + ` FROM notifications n WHERE ` + conds + ` AND n.channel = ` + w.arg(string(p.Channel)) +
			` ORDER BY n.visible_at DESC, n.id DESC LIMIT ` + lim
	} else {
		var branches []string
		for _, ch := range inboxChannels(p.Channel) {
			branches = append(branches, `(SELECT `+columns+`
    FROM notifications n WHERE `+conds+` AND n.channel = `+w.arg(string(ch))+`
    ORDER BY n.visible_at DESC, n.id DESC LIMIT `+lim+`)`)
		}
		sql = `SELECT ` + columns + ` FROM (` + strings.Join(branches, "\nUNION ALL\n") + `) n
ORDER BY n.visible_at DESC, n.id DESC LIMIT ` + lim
	}
	rows, err := q.db.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: notification list: %w", mapErr(err, ""))
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.InboxItem, error) {
		it := store.InboxItem{UserID: p.UserID}
		err := r.Scan(&it.ID, &it.EventID, &it.Channel, &it.CreatedAt, &it.VisibleAt, &it.ExpiresAt, &it.ReadAt, &it.ArchivedAt)
		it.CreatedAt, it.VisibleAt = it.CreatedAt.UTC(), it.VisibleAt.UTC()
		it.ExpiresAt, it.ReadAt, it.ArchivedAt = utcPtr(it.ExpiresAt), utcPtr(it.ReadAt), utcPtr(it.ArchivedAt)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification list: %w", mapErr(err, ""))
	}
	return p.Events.Fill(ctx, items, q.loadEvents, q.loadStatusTypes)
}

// inboxChannels are the channels an inbox query reads: ch, or every
// in-app channel when ch is empty.
func inboxChannels(ch store.Channel) []store.Channel {
	if ch != "" {
		return []store.Channel{ch}
	}
	var out []store.Channel
	for _, c := range store.Channels {
		if c.InApp() {
			out = append(out, c)
		}
	}
	return out
}

// NotificationGet returns notification id of userID, whatever its state.
func (q *queries) NotificationGet(ctx context.Context, userID string, id int64) (*store.InboxItem, error) {
	it, err := scanInboxItem(q.db.QueryRow(ctx, inboxSelect+` WHERE n.id = $1 AND n.user_id = $2`, id, userID))
	if err != nil {
		return nil, fmt.Errorf("postgres: notification get %d: %w", id, mapErr(err, ""))
	}
	return &it, nil
}

// NotificationCountUnread counts userID's unread, visible, unexpired
// notifications per in-app channel; every in-app channel is in the map.
func (q *queries) NotificationCountUnread(ctx context.Context, userID string, now time.Time) (map[store.Channel]int, error) {
	rows, err := q.db.Query(ctx, `
SELECT channel, count(*) FROM notifications
WHERE user_id = $1 AND read_at IS NULL AND archived_at IS NULL AND visible_at <= $2
    AND (expires_at IS NULL OR expires_at > $2)
GROUP BY channel`, userID, tsOrNow(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: notification count unread: %w", mapErr(err, ""))
	}
	counts := map[store.Channel]int{}
	for _, c := range store.Channels {
		if c.InApp() {
			counts[c] = 0
		}
	}
	var (
		channel string
		n       int
	)
	_, err = pgx.ForEachRow(rows, []any{&channel, &n}, func() error {
		counts[store.Channel(channel)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: notification count unread: %w", mapErr(err, ""))
	}
	return counts, nil
}

// NotificationSetRead marks notification p.ID of p.UserID read at p.ReadAt,
// or unread when p.ReadAt is nil, and logs the change, in one transaction.
func (q *queries) NotificationSetRead(ctx context.Context, p *store.NotificationSetReadParams) error {
	at := tsOrNow(p.At)
	c := store.NotificationChange{UserID: p.UserID, Kind: store.ChangeUnread, NotificationID: p.ID, At: at, CreatedAt: at}
	if p.ReadAt != nil {
		c.Kind, c.At = store.ChangeRead, ts(*p.ReadAt)
	}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.lockChanges(ctx, p.UserID); err != nil {
			return err
		}
		err := q.db.QueryRow(ctx, `UPDATE notifications SET read_at = $3 WHERE id = $1 AND user_id = $2 RETURNING channel`,
			p.ID, p.UserID, tsPtr(p.ReadAt)).Scan(&c.Channel)
		if err != nil {
			return mapErr(err, "")
		}
		return q.changeInsert(ctx, &c)
	})
	if err != nil {
		return fmt.Errorf("postgres: notification set read %d: %w", p.ID, err)
	}
	return nil
}

// NotificationReadAll marks p.UserID's unread notifications that are
// visible and unexpired at p.At read, in p.Channel (every channel when
// empty), logs the change when there were any, and returns how many.
func (q *queries) NotificationReadAll(ctx context.Context, p *store.NotificationReadAllParams) (int, error) {
	at := tsOrNow(p.At)
	var n int
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.lockChanges(ctx, p.UserID); err != nil {
			return err
		}
		tag, err := q.db.Exec(ctx, `
UPDATE notifications SET read_at = $3
WHERE user_id = $1 AND ($2 = '' OR channel = $2) AND read_at IS NULL AND archived_at IS NULL
    AND visible_at <= $3 AND (expires_at IS NULL OR expires_at > $3)`,
			p.UserID, string(p.Channel), at)
		if err != nil {
			return mapErr(err, "")
		}
		if n = int(tag.RowsAffected()); n == 0 {
			return nil
		}
		return q.changeInsert(ctx, &store.NotificationChange{
			UserID: p.UserID, Kind: store.ChangeReadAll, Channel: p.Channel, At: at, Count: n, CreatedAt: at,
		})
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: notification read all: %w", err)
	}
	return n, nil
}

// NotificationPostpone makes notification p.ID of p.UserID visible from
// p.Until, and logs the change, in one transaction.
func (q *queries) NotificationPostpone(ctx context.Context, p *store.NotificationPostponeParams) error {
	c := store.NotificationChange{UserID: p.UserID, Kind: store.ChangePostponed, NotificationID: p.ID, At: ts(p.Until), CreatedAt: tsOrNow(p.At)}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.lockChanges(ctx, p.UserID); err != nil {
			return err
		}
		err := q.db.QueryRow(ctx, `UPDATE notifications SET visible_at = $3 WHERE id = $1 AND user_id = $2 RETURNING channel`,
			p.ID, p.UserID, ts(p.Until)).Scan(&c.Channel)
		if err != nil {
			return mapErr(err, "")
		}
		return q.changeInsert(ctx, &c)
	})
	if err != nil {
		return fmt.Errorf("postgres: notification postpone %d: %w", p.ID, err)
	}
	return nil
}

// NotificationSetArchived archives notification p.ID of p.UserID at
// p.ArchivedAt, or brings it back to the inbox when nil, and logs the
// change, in one transaction.
func (q *queries) NotificationSetArchived(ctx context.Context, p *store.NotificationSetArchivedParams) error {
	at := tsOrNow(p.At)
	c := store.NotificationChange{UserID: p.UserID, Kind: store.ChangeUnarchived, NotificationID: p.ID, At: at, CreatedAt: at}
	if p.ArchivedAt != nil {
		c.Kind, c.At = store.ChangeArchived, ts(*p.ArchivedAt)
	}
	err := q.atomic(ctx, func(q *queries) error {
		if err := q.lockChanges(ctx, p.UserID); err != nil {
			return err
		}
		err := q.db.QueryRow(ctx, `UPDATE notifications SET archived_at = $3 WHERE id = $1 AND user_id = $2 RETURNING channel`,
			p.ID, p.UserID, tsPtr(p.ArchivedAt)).Scan(&c.Channel)
		if err != nil {
			return mapErr(err, "")
		}
		return q.changeInsert(ctx, &c)
	})
	if err != nil {
		return fmt.Errorf("postgres: notification set archived %d: %w", p.ID, err)
	}
	return nil
}

// NotificationPurge deletes at most p.Limit (default 1000) notifications
// read before p.ReadBefore or expired before p.ExpiredBefore, and returns
// how many. A zero time selects nothing.
func (q *queries) NotificationPurge(ctx context.Context, p *store.NotificationPurgeParams) (int, error) {
	n := p.Limit
	if n <= 0 {
		n = defaultPurgeLimit
	}
	tag, err := q.db.Exec(ctx, `
DELETE FROM notifications WHERE id IN (
    SELECT id FROM notifications
    WHERE read_at < $1 OR expires_at < $2
    LIMIT $3)`,
		ts(p.ReadBefore), ts(p.ExpiredBefore), n)
	if err != nil {
		return 0, fmt.Errorf("postgres: notification purge: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

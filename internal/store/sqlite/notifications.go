package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// NotificationInsertMany inserts every row in one statement: SQLite expands
// the JSON array of user ids itself, so 100,000 rows cost one round trip.
func (q *queries) NotificationInsertMany(ctx context.Context, p *store.NotificationInsertManyParams) (int, error) {
	if len(p.UserIDs) == 0 {
		return 0, nil
	}
	at := ts(p.CreatedAt)
	res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, value, ?, ?, ?, ? FROM json_each(?)`,
		p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt), jsonList(p.UserIDs))
	if err != nil {
		return 0, mapErr("notification insert", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("notification insert", err)
}

const inboxSelect = `SELECT n.id, n.event_id, n.user_id, n.channel, e.key, coalesce(t.status_type, 'neutral'),
		e.title, e.body, e.context_type, e.context_id, n.created_at, n.visible_at, n.expires_at, n.read_at,
		e.url, e.actions, n.archived_at
	FROM notifications n
	JOIN events e ON e.id = n.event_id
	LEFT JOIN notification_types t ON t.key = e.key`

func scanInbox(row interface{ Scan(...any) error }) (store.InboxItem, error) {
	var (
		it            store.InboxItem
		ch, st        string
		expires, read sql.NullTime
		archived      sql.NullTime
		actions       string
	)
	err := row.Scan(&it.ID, &it.EventID, &it.UserID, &ch, &it.Key, &st, &it.Title, &it.Body,
		&it.ContextType, &it.ContextID, &it.CreatedAt, &it.VisibleAt, &expires, &read,
		&it.URL, &actions, &archived)
	it.Channel, it.StatusType = store.Channel(ch), store.StatusType(st)
	it.CreatedAt, it.VisibleAt = it.CreatedAt.UTC(), it.VisibleAt.UTC()
	it.ExpiresAt, it.ReadAt, it.ArchivedAt = timePtr(expires), timePtr(read), timePtr(archived)
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
// that it never reads and sorts the whole inbox; a cursor (a row value)
// starts the range where the last page ended. Times come as text and are
// parsed here (storedtime.go).
func (q *queries) NotificationList(ctx context.Context, p *store.NotificationListParams) ([]store.InboxItem, error) {
	now := ts(p.Now)
	lim := clampLimit(p.Limit, 20, 200)
	conds := `n.user_id = ? AND n.channel = ? AND n.visible_at <= ? AND (n.expires_at IS NULL OR n.expires_at > ?)`
	if p.UnreadOnly {
		conds += ` AND n.read_at IS NULL`
	}
	if p.Archived {
		conds += ` AND n.archived_at IS NOT NULL`
	} else {
		conds += ` AND n.archived_at IS NULL`
	}
	if p.Cursor != nil {
		conds += ` AND (n.visible_at, n.id) < (?, ?)`
	}
	const columns = `n.id, n.event_id, n.channel, n.created_at || '', n.visible_at || '', n.expires_at || '', n.read_at || '', n.archived_at || ''`
	var (
		query string
		args  []any
	)
	channels := inboxChannels(p.Channel)
	for _, ch := range channels {
		args = append(args, p.UserID, string(ch), now, now)
		if p.Cursor != nil {
			args = append(args, ts(p.Cursor.VisibleAt), p.Cursor.ID)
		}
		args = append(args, lim)
	}
	if len(channels) == 1 {
		query = `SELECT ` + columns + ` FROM notifications n WHERE ` + conds + ` ORDER BY n.visible_at DESC, n.id DESC LIMIT ?`
	} else {
		branches := make([]string, len(channels))
		for i := range channels {
			branches[i] = `SELECT * FROM (SELECT n.id, n.event_id, n.channel, n.created_at, n.visible_at, n.expires_at, n.read_at, n.archived_at
			FROM notifications n WHERE ` + conds + ` ORDER BY n.visible_at DESC, n.id DESC LIMIT ?)`
		}
		query = `SELECT ` + columns + ` FROM (` + strings.Join(branches, "\n\t\tUNION ALL ") + `) n
	ORDER BY n.visible_at DESC, n.id DESC LIMIT ?`
		args = append(args, lim)
	}
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("notification list", err)
	}
	defer rows.Close()
	out := make([]store.InboxItem, 0, lim)
	for rows.Next() {
		it := store.InboxItem{UserID: p.UserID}
		var (
			ch, created, visible    string
			expires, read, archived sql.NullString
		)
		if err := rows.Scan(&it.ID, &it.EventID, &ch, &created, &visible, &expires, &read, &archived); err != nil {
			return nil, mapErr("notification list", err)
		}
		it.Channel = store.Channel(ch)
		if it.CreatedAt, err = parseStoredTime(created); err == nil {
			if it.VisibleAt, err = parseStoredTime(visible); err == nil {
				if it.ExpiresAt, err = parseStoredNull(expires); err == nil {
					if it.ReadAt, err = parseStoredNull(read); err == nil {
						it.ArchivedAt, err = parseStoredNull(archived)
					}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: notification list: %w", err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("notification list", err)
	}
	rows.Close()
	return p.Events.Fill(ctx, out, q.loadEvents, q.loadStatusTypes)
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

func (q *queries) NotificationGet(ctx context.Context, userID string, id int64) (*store.InboxItem, error) {
	it, err := scanInbox(q.r.QueryRowContext(ctx, inboxSelect+` WHERE n.id = ? AND n.user_id = ?`, id, userID))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("notification get %d", id), err)
	}
	return &it, nil
}

// NotificationCountUnread reads the person's rows of the inbox index. Its
// times are compared as +visible_at and +expires_at: a column declared
// DATETIME has numeric affinity, which SQLite would otherwise apply to the
// (text) bound time again at every row it compares, trying to read it as a
// number (a quarter of the count's time, issue 14). Stored times are text
// that is no number, so the comparison is the same text comparison.
func (q *queries) NotificationCountUnread(ctx context.Context, userID string, now time.Time) (map[store.Channel]int, error) {
	now = ts(now)
	rows, err := q.r.QueryContext(ctx, `SELECT channel, count(*) FROM notifications
		WHERE user_id = ? AND read_at IS NULL AND archived_at IS NULL AND +visible_at <= ?
		AND (expires_at IS NULL OR +expires_at > ?)
		GROUP BY channel`, userID, now, now)
	if err != nil {
		return nil, mapErr("notification count", err)
	}
	defer rows.Close()
	out := map[store.Channel]int{store.ChannelMessage: 0, store.ChannelHeaderMessage: 0, store.ChannelAlert: 0}
	for rows.Next() {
		var ch string
		var n int
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, mapErr("notification count", err)
		}
		out[store.Channel(ch)] = n
	}
	return out, mapErr("notification count", rows.Err())
}

// NotificationSetRead marks the notification and logs the change, in one
// transaction.
func (q *queries) NotificationSetRead(ctx context.Context, p *store.NotificationSetReadParams) error {
	at := nowIfZero(p.At)
	c := store.NotificationChange{UserID: p.UserID, Kind: store.ChangeUnread, NotificationID: p.ID, At: at, CreatedAt: at}
	if p.ReadAt != nil {
		c.Kind, c.At = store.ChangeRead, ts(*p.ReadAt)
	}
	return q.atomic(ctx, func(q *queries) error {
		var ch string
		err := q.w.QueryRowContext(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? RETURNING channel`,
			tsPtr(p.ReadAt), p.ID, p.UserID).Scan(&ch)
		if err != nil {
			return mapErr(fmt.Sprintf("notification %d", p.ID), err)
		}
		c.Channel = store.Channel(ch)
		return q.changeInsert(ctx, &c)
	})
}

// NotificationReadAll marks the notifications and, when there were any,
// logs the change, in one transaction.
func (q *queries) NotificationReadAll(ctx context.Context, p *store.NotificationReadAllParams) (int, error) {
	at := ts(p.At)
	var n int64
	err := q.atomic(ctx, func(q *queries) error {
		res, err := q.w.ExecContext(ctx, `UPDATE notifications SET read_at = ?
		WHERE user_id = ? AND (? = '' OR channel = ?) AND read_at IS NULL AND archived_at IS NULL AND visible_at <= ?
		AND (expires_at IS NULL OR expires_at > ?)`, at, p.UserID, string(p.Channel), string(p.Channel), at, at)
		if err != nil {
			return mapErr("notification read all", err)
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return mapErr("notification read all", err)
		}
		return q.changeInsert(ctx, &store.NotificationChange{
			UserID: p.UserID, Kind: store.ChangeReadAll, Channel: p.Channel, At: at, Count: int(n), CreatedAt: at,
		})
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// NotificationPostpone moves the notification and logs the change, in one
// transaction.
func (q *queries) NotificationPostpone(ctx context.Context, p *store.NotificationPostponeParams) error {
	return q.atomic(ctx, func(q *queries) error {
		var ch string
		err := q.w.QueryRowContext(ctx, `UPDATE notifications SET visible_at = ? WHERE id = ? AND user_id = ? RETURNING channel`,
			ts(p.Until), p.ID, p.UserID).Scan(&ch)
		if err != nil {
			return mapErr(fmt.Sprintf("notification %d", p.ID), err)
		}
		at := nowIfZero(p.At)
		return q.changeInsert(ctx, &store.NotificationChange{
			UserID: p.UserID, Kind: store.ChangePostponed, NotificationID: p.ID, Channel: store.Channel(ch),
			At: ts(p.Until), CreatedAt: at,
		})
	})
}

// NotificationSetArchived archives the notification (or brings it back)
// and logs the change, in one transaction.
func (q *queries) NotificationSetArchived(ctx context.Context, p *store.NotificationSetArchivedParams) error {
	at := nowIfZero(p.At)
	c := store.NotificationChange{UserID: p.UserID, Kind: store.ChangeUnarchived, NotificationID: p.ID, At: at, CreatedAt: at}
	if p.ArchivedAt != nil {
		c.Kind, c.At = store.ChangeArchived, ts(*p.ArchivedAt)
	}
	return q.atomic(ctx, func(q *queries) error {
		var ch string
		err := q.w.QueryRowContext(ctx, `UPDATE notifications SET archived_at = ? WHERE id = ? AND user_id = ? RETURNING channel`,
			tsPtr(p.ArchivedAt), p.ID, p.UserID).Scan(&ch)
		if err != nil {
			return mapErr(fmt.Sprintf("notification %d", p.ID), err)
		}
		c.Channel = store.Channel(ch)
		return q.changeInsert(ctx, &c)
	})
}

func (q *queries) NotificationPurge(ctx context.Context, p *store.NotificationPurgeParams) (int, error) {
	// The newest row is kept, whatever its state: a new row's id is one
	// more than the greatest, so deleting the newest would let the next
	// insert reuse its id, and the realtime feed reads "ids after X".
	res, err := q.w.ExecContext(ctx, `DELETE FROM notifications WHERE id IN (
		SELECT id FROM notifications WHERE read_at < ? AND id < (SELECT max(id) FROM notifications)
		UNION SELECT id FROM notifications WHERE expires_at < ? AND id < (SELECT max(id) FROM notifications) LIMIT ?)`,
		ts(p.ReadBefore), ts(p.ExpiredBefore), clampLimit(p.Limit, 10000, 1000000))
	if err != nil {
		return 0, mapErr("notification purge", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("notification purge", err)
}

type deliveryJSON struct {
	U string `json:"u"`
	C string `json:"c"`
	A string `json:"a"`
	R string `json:"r"`
	T string `json:"t"`
}

func (q *queries) DeliveryInsertMany(ctx context.Context, p *store.DeliveryInsertManyParams) (int, error) {
	if len(p.Recipients) == 0 {
		return 0, nil
	}
	channel := store.ChannelOrEmail(p.Channel)
	rows := make([]deliveryJSON, len(p.Recipients))
	for i, r := range p.Recipients {
		addr, target := store.DeliveryAddress(channel, r)
		rows[i] = deliveryJSON{U: r.UserID, C: r.CompanyID, A: addr, R: r.Reason, T: target}
	}
	payload, err := json.Marshal(rows)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delivery insert: %w", err)
	}
	at := ts(p.CreatedAt)
	res, err := q.w.ExecContext(ctx, `INSERT INTO deliveries (event_id, user_id, company_id, address, reason, state, created_at, updated_at, channel, target)
		SELECT ?, value ->> '$.u', value ->> '$.c', value ->> '$.a', value ->> '$.r', 'queued', ?, ?, ?, value ->> '$.t' FROM json_each(?) WHERE true
		ON CONFLICT (event_id, address) DO NOTHING`, p.EventID, at, at, channel, string(payload))
	if err != nil {
		return 0, mapErr("delivery insert", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("delivery insert", err)
}

func (q *queries) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]store.Delivery, error) {
	where, args := deliveryWhere(p)
	order := "DESC"
	if p.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, p.BeforeID)
	} else if p.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, p.AfterID)
		order = "ASC"
	}
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id " + order + " LIMIT ?"
	args = append(args, clampLimit(p.Limit, 50, 1000))
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("delivery list", err)
	}
	defer rows.Close()
	var out []store.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, mapErr("delivery list", err)
		}
		out = append(out, d)
	}
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, mapErr("delivery list", rows.Err())
}

// DeliveryCount implements store.ConsoleViews.
func (q *queries) DeliveryCount(ctx context.Context, p *store.DeliveryListParams) (int, error) {
	where, args := deliveryWhere(p)
	query := `SELECT count(*) FROM deliveries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var n int
	err := q.r.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, mapErr("delivery count", err)
}

func deliveryWhere(p *store.DeliveryListParams) ([]string, []any) {
	var where []string
	var args []any
	if p.Channel != "" {
		where, args = append(where, "channel = ?"), append(args, p.Channel)
	}
	if p.EventID > 0 {
		where, args = append(where, "event_id = ?"), append(args, p.EventID)
	}
	if p.State != "" {
		where, args = append(where, "state = ?"), append(args, string(p.State))
	}
	return where, args
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func (q *queries) TypeUpsert(ctx context.Context, t *store.NotificationType) error {
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = time.Now()
	}
	t.UpdatedAt = ts(t.UpdatedAt)
	err := q.w.QueryRowContext(ctx, `INSERT INTO notification_types (key, label, default_channel, status_type, builtin, updated_at)
		VALUES (?, ?, ?, ?, 0, ?)
		ON CONFLICT (key) DO UPDATE SET label = excluded.label, default_channel = excluded.default_channel,
			status_type = excluded.status_type, updated_at = excluded.updated_at
		RETURNING builtin, mandatory, email_if_unread_minutes`,
		t.Key, t.Label, string(t.DefaultChannel), string(t.StatusType), t.UpdatedAt).Scan(&t.Builtin, &t.Mandatory, &t.EmailIfUnreadMinutes)
	return mapErr("type upsert", err)
}

const typeColumns = `key, label, default_channel, status_type, builtin, updated_at, mandatory, email_if_unread_minutes`

func scanType(row interface{ Scan(...any) error }) (store.NotificationType, error) {
	var t store.NotificationType
	var ch, st string
	err := row.Scan(&t.Key, &t.Label, &ch, &st, &t.Builtin, &t.UpdatedAt, &t.Mandatory, &t.EmailIfUnreadMinutes)
	t.DefaultChannel, t.StatusType, t.UpdatedAt = store.Channel(ch), store.StatusType(st), t.UpdatedAt.UTC()
	return t, err
}

func (q *queries) TypeGet(ctx context.Context, key string) (*store.NotificationType, error) {
	t, err := scanType(q.r.QueryRowContext(ctx, `SELECT `+typeColumns+` FROM notification_types WHERE key = ?`, key))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("type get %q", key), err)
	}
	return &t, nil
}

func (q *queries) TypeList(ctx context.Context) ([]store.NotificationType, error) {
	rows, err := q.r.QueryContext(ctx, `SELECT `+typeColumns+` FROM notification_types ORDER BY key`)
	if err != nil {
		return nil, mapErr("type list", err)
	}
	defer rows.Close()
	var out []store.NotificationType
	for rows.Next() {
		t, err := scanType(rows)
		if err != nil {
			return nil, mapErr("type list", err)
		}
		out = append(out, t)
	}
	return out, mapErr("type list", rows.Err())
}

func (q *queries) TypeDelete(ctx context.Context, key string) error {
	return q.atomic(ctx, func(q *queries) error {
		var n int
		if err := q.w.QueryRowContext(ctx, `SELECT count(*) FROM events WHERE key = ?`, key).Scan(&n); err != nil {
			return mapErr("type delete", err)
		}
		if n > 0 {
			return store.TypeInUse(key, n)
		}
		res, err := q.w.ExecContext(ctx, `DELETE FROM notification_types WHERE key = ?`, key)
		if err != nil {
			return mapErr("type delete", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("sqlite: type delete %q: %w", key, store.ErrNotFound)
		}
		return nil
	})
}

func (q *queries) EventInsert(ctx context.Context, e *store.Event) error {
	now := ts(time.Now())
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	e.CreatedAt = ts(e.CreatedAt)
	e.UpdatedAt = e.CreatedAt
	recipients, err := json.Marshal(e.Recipients)
	if err != nil {
		return fmt.Errorf("sqlite: event insert: %w", err)
	}
	res, err := q.w.ExecContext(ctx, `INSERT INTO events (key, title, body, due_at, until, context_type, context_id,
			check_url, force_channel, channel, recipients, status, status_reason, counts, created_at, updated_at, published_at,
			report, url, actions)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Key, e.Title, e.Body, tsPtr(e.DueAt), tsPtr(e.Until), e.ContextType, e.ContextID,
		e.CheckURL, string(e.ForceChannel), string(e.Channel), string(recipients), string(e.Status), e.StatusReason,
		store.MarshalCounts(e.Counts), e.CreatedAt, e.UpdatedAt, tsPtr(e.PublishedAt), store.MarshalReport(e.Report),
		e.URL, store.MarshalActions(e.Actions))
	if err != nil {
		err = mapErr("event insert", err)
		if errors.Is(err, store.ErrInUse) { // the only foreign key: key
			return fmt.Errorf("sqlite: event insert: %w", store.Invalid("key", "unknown notification type %q", e.Key))
		}
		return err
	}
	e.ID, err = res.LastInsertId()
	return mapErr("event insert", err)
}

const eventColumns = `id, key, title, body, due_at, until, context_type, context_id, check_url, force_channel,
	channel, recipients, status, status_reason, counts, created_at, updated_at, published_at, report, url, actions`

func scanEvent(row interface{ Scan(...any) error }) (store.Event, error) {
	var (
		e                     store.Event
		due, until, published sql.NullTime
		force, ch, status     string
		recipients, counts    string
		report, actions       string
	)
	err := row.Scan(&e.ID, &e.Key, &e.Title, &e.Body, &due, &until, &e.ContextType, &e.ContextID, &e.CheckURL,
		&force, &ch, &recipients, &status, &e.StatusReason, &counts, &e.CreatedAt, &e.UpdatedAt, &published, &report,
		&e.URL, &actions)
	if err != nil {
		return e, err
	}
	e.DueAt, e.Until, e.PublishedAt = timePtr(due), timePtr(until), timePtr(published)
	e.ForceChannel, e.Channel, e.Status = store.Channel(force), store.Channel(ch), store.EventStatus(status)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	e.Counts = store.UnmarshalCounts(counts)
	e.Report = store.UnmarshalReport(report)
	e.Actions = store.UnmarshalActions(actions)
	if err := json.Unmarshal([]byte(recipients), &e.Recipients); err != nil {
		return e, fmt.Errorf("event %d recipients: %w", e.ID, err)
	}
	return e, nil
}

func (q *queries) EventGet(ctx context.Context, id int64) (*store.Event, error) {
	e, err := scanEvent(q.r.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ?`, id))
	if err != nil {
		return nil, mapErr(fmt.Sprintf("event get %d", id), err)
	}
	return &e, nil
}

func (q *queries) EventGetMany(ctx context.Context, ids []int64) ([]store.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := q.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM events WHERE id IN (SELECT value FROM json_each(?))`, string(b))
	if err != nil {
		return nil, mapErr("event get many", err)
	}
	defer rows.Close()
	out := make([]store.Event, 0, len(ids))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, mapErr("event get many", err)
		}
		out = append(out, e)
	}
	return out, mapErr("event get many", rows.Err())
}

func (q *queries) EventList(ctx context.Context, p *store.EventListParams) ([]store.Event, error) {
	where, args := eventWhere(p)
	order := "DESC"
	if p.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, p.BeforeID)
	} else if p.AfterID > 0 {
		where, args = append(where, "id > ?"), append(args, p.AfterID)
		order = "ASC" // the page just newer, turned round below
	}
	query := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id " + order + " LIMIT ?"
	args = append(args, clampLimit(p.Limit, 50, 1000))
	rows, err := q.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr("event list", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, mapErr("event list", err)
		}
		out = append(out, e)
	}
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, mapErr("event list", rows.Err())
}

// EventCount implements store.ConsoleViews.
func (q *queries) EventCount(ctx context.Context, p *store.EventListParams) (int, error) {
	where, args := eventWhere(p)
	query := `SELECT count(*) FROM events`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	var n int
	err := q.r.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, mapErr("event count", err)
}

// eventWhere is the filter of EventList and EventCount, paging aside.
func eventWhere(p *store.EventListParams) ([]string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) { where = append(where, cond); args = append(args, arg...) }
	if p.Status != "" {
		add("status = ?", string(p.Status))
	}
	if p.ContextType != "" {
		add("context_type = ?", p.ContextType)
	}
	if p.ContextID != "" {
		add("context_id = ?", p.ContextID)
	}
	if p.Key != "" {
		add("key = ?", p.Key)
	}
	if t := strings.TrimSpace(p.Title); t != "" {
		add(`title LIKE ? ESCAPE '\'`, likePattern(t))
	}
	if p.Recipient != "" {
		add(`(id IN (SELECT event_id FROM notifications WHERE user_id = ?)
			OR id IN (SELECT event_id FROM deliveries WHERE user_id = ?))`, p.Recipient, p.Recipient)
	}
	return where, args
}

func (q *queries) EventFinish(ctx context.Context, p *store.EventFinishParams) error {
	if p.InsertedPublished && p.Status != store.EventPublished {
		return fmt.Errorf("sqlite: event finish %d: %w", p.ID,
			store.Invalid("status", "cannot finish an event as %q", p.Status))
	}
	at := ts(p.At)
	var published any
	if p.Status == store.EventPublished && !p.InsertedPublished {
		published = at
	}
	from := string(store.EventPending)
	if p.InsertedPublished {
		from = string(store.EventPublished)
	}
	var counts any
	if p.Counts != nil {
		counts = store.MarshalCounts(p.Counts)
	}
	var report any
	if p.Report != nil {
		report = store.MarshalReport(p.Report)
	}
	res, err := q.w.ExecContext(ctx, `UPDATE events SET status = ?, status_reason = ?, updated_at = ?,
			published_at = coalesce(?, published_at), channel = coalesce(nullif(?, ''), channel),
			counts = coalesce(?, counts), report = coalesce(?, report)
		WHERE id = ? AND status = ?`,
		string(p.Status), p.Reason, at, published, string(p.Channel), counts, report, p.ID, from)
	if err != nil {
		return mapErr("event finish", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var status string
	if err := q.w.QueryRowContext(ctx, `SELECT status FROM events WHERE id = ?`, p.ID).Scan(&status); err != nil {
		return mapErr(fmt.Sprintf("event finish %d", p.ID), err)
	}
	return store.Errorf(store.ErrConflict, "event %d is already %s", p.ID, status)
}

func (q *queries) EventCancelPending(ctx context.Context, p *store.EventCancelPendingParams) ([]int64, error) {
	if p.ContextType == "" || p.ContextID == "" {
		return nil, fmt.Errorf("sqlite: event cancel: %w", store.Invalid("context", "type and id are required"))
	}
	rows, err := q.w.QueryContext(ctx, `UPDATE events SET status = 'cancelled', status_reason = ?, updated_at = ?
		WHERE context_type = ? AND context_id = ? AND status = 'pending' AND (? = '' OR key = ?) AND id <> ?
		RETURNING id`, p.Reason, ts(p.At), p.ContextType, p.ContextID, p.Key, p.Key, p.ExceptID)
	if err != nil {
		return nil, mapErr("event cancel", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("event cancel", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("event cancel", err)
	}
	slices.Sort(ids)
	return ids, nil
}

func clampLimit(n, def, max int) int {
	if n <= 0 {
		return def
	}
	if n > max {
		return max
	}
	return n
}

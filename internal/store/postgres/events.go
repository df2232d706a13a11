package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// Page sizes of EventList and DeliveryList.
const (
	defaultListLimit = 50
	maxListLimit     = 1000
)

// EventInsert stores event e and sets its ID. CreatedAt is now when zero,
// UpdatedAt is CreatedAt when zero, Status is pending when empty; e's times
// are normalised. An unknown Key is a *store.FieldError on "key".
func (q *queries) EventInsert(ctx context.Context, e *store.Event) error {
	if e.Status == "" {
		e.Status = store.EventPending
	}
	created := tsOrNow(e.CreatedAt)
	updated := created
	if !e.UpdatedAt.IsZero() {
		updated = ts(e.UpdatedAt)
	}
	recipients, err := json.Marshal(e.Recipients)
	if err != nil {
		return fmt.Errorf("postgres: event insert: recipients: %w", err)
	}
	due, until, published := tsPtr(e.DueAt), tsPtr(e.Until), tsPtr(e.PublishedAt)
	var id int64
	err = q.db.QueryRow(ctx, `
INSERT INTO events (key, title, body, due_at, until, context_type, context_id, check_url,
    force_channel, channel, recipients, status, status_reason, counts,
    created_at, updated_at, published_at, report, url, actions)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
RETURNING id`,
		e.Key, e.Title, e.Body, due, until, e.ContextType, e.ContextID, e.CheckURL,
		string(e.ForceChannel), string(e.Channel), string(recipients), string(e.Status), e.StatusReason,
		store.MarshalCounts(e.Counts), created, updated, published, store.MarshalReport(e.Report),
		e.URL, store.MarshalActions(e.Actions)).Scan(&id)
	if err != nil {
		err = mapErr(err, "key")
		if fe, ok := err.(*store.FieldError); ok && fe.Field == "key" {
			fe.Problem = fmt.Sprintf("unknown notification type %q", e.Key)
		}
		return fmt.Errorf("postgres: event insert: %w", err)
	}
	e.ID = id
	e.CreatedAt, e.UpdatedAt = created, updated
	e.DueAt, e.Until, e.PublishedAt = due, until, published
	return nil
}

const eventColumns = `id, key, title, body, due_at, until, context_type, context_id, check_url,
    force_channel, channel, recipients, status, status_reason, counts,
    created_at, updated_at, published_at, report, url, actions`

func scanEvent(row pgx.Row) (store.Event, error) {
	var (
		e                  store.Event
		recipients, counts string
		report, actions    string
	)
	err := row.Scan(&e.ID, &e.Key, &e.Title, &e.Body, &e.DueAt, &e.Until, &e.ContextType,
		&e.ContextID, &e.CheckURL, &e.ForceChannel, &e.Channel, &recipients, &e.Status,
		&e.StatusReason, &counts, &e.CreatedAt, &e.UpdatedAt, &e.PublishedAt, &report,
		&e.URL, &actions)
	if err != nil {
		return e, err
	}
	if err := json.Unmarshal([]byte(recipients), &e.Recipients); err != nil {
		return e, fmt.Errorf("event %d: recipients: %w", e.ID, err)
	}
	e.Counts = store.UnmarshalCounts(counts)
	e.Report = store.UnmarshalReport(report)
	e.Actions = store.UnmarshalActions(actions)
	e.DueAt, e.Until, e.PublishedAt = utcPtr(e.DueAt), utcPtr(e.Until), utcPtr(e.PublishedAt)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return e, nil
}

// EventGet returns event id.
func (q *queries) EventGet(ctx context.Context, id int64) (*store.Event, error) {
	e, err := scanEvent(q.db.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("postgres: event get %d: %w", id, mapErr(err, ""))
	}
	return &e, nil
}

// EventGetMany returns the events of ids that exist.
func (q *queries) EventGetMany(ctx context.Context, ids []int64) ([]store.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: event get many: %w", mapErr(err, ""))
	}
	defer rows.Close()
	out := make([]store.Event, 0, len(ids))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: event get many: %w", mapErr(err, ""))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: event get many: %w", mapErr(err, ""))
	}
	return out, nil
}

// where builds a conjunction of conditions with numbered arguments.
type where struct {
	conds []string
	args  []any
}

// add appends cond, in which "?" stands for the argument v.
func (w *where) add(cond string, v any) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

// arg adds v as an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// EventList returns events newest first, filtered by p.
func (q *queries) EventList(ctx context.Context, p *store.EventListParams) ([]store.Event, error) {
	w := eventWhere(p)
	order := "DESC"
	if p.BeforeID > 0 {
		w.add("id < ?", p.BeforeID)
	} else if p.AfterID > 0 {
		w.add("id > ?", p.AfterID)
		order = "ASC" // the page just newer, turned round below
	}
	sql := `SELECT ` + eventColumns + ` FROM events` + w.sql() +
		` ORDER BY id ` + order + ` LIMIT ` + w.arg(limit(p.Limit, defaultListLimit, maxListLimit))
	rows, err := q.db.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: event list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Event, error) { return scanEvent(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: event list: %w", mapErr(err, ""))
	}
	if order == "ASC" {
		slices.Reverse(out)
	}
	return out, nil
}

// EventCount implements store.ConsoleViews.
func (q *queries) EventCount(ctx context.Context, p *store.EventListParams) (int, error) {
	w := eventWhere(p)
	var n int
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM events`+w.sql(), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: event count: %w", mapErr(err, ""))
	}
	return n, nil
}

const (
	upperASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerASCII = "abcdefghijklmnopqrstuvwxyz"
)

// eventWhere is the filter of EventList and EventCount, paging aside.
func eventWhere(p *store.EventListParams) *where {
	var w where
	if p.Status != "" {
		w.add("status = ?", string(p.Status))
	}
	if p.ContextType != "" {
		w.add("context_type = ?", p.ContextType)
	}
	if p.ContextID != "" {
		w.add("context_id = ?", p.ContextID)
	}
	if p.Key != "" {
		w.add("key = ?", p.Key)
	}
	if t := strings.TrimSpace(p.Title); t != "" {
		// ASCII letters in any case, as SQLite's LIKE: ILIKE would fold
		// every letter.
		w.add(`translate(title, '`+upperASCII+`', '`+lowerASCII+`') LIKE translate(?, '`+upperASCII+`', '`+lowerASCII+`') ESCAPE '\'`, likePattern(t))
	}
	if p.Recipient != "" {
		ph := w.arg(p.Recipient)
		w.conds = append(w.conds, `(id IN (SELECT event_id FROM notifications WHERE user_id = `+ph+`)
			OR id IN (SELECT event_id FROM deliveries WHERE user_id = `+ph+`))`)
	}
	return &w
}

// EventFinish moves pending event p.ID to p.Status. It fails with
// store.ErrConflict when the event is no longer pending and with
// store.ErrNotFound when there is no such event.
func (q *queries) EventFinish(ctx context.Context, p *store.EventFinishParams) error {
	if p.Status == store.EventPending || !p.Status.Valid() || (p.InsertedPublished && p.Status != store.EventPublished) {
		return fmt.Errorf("postgres: event finish %d: %w", p.ID,
			store.Invalid("status", "cannot finish an event as %q", p.Status))
	}
	at := tsOrNow(p.At)
	var counts, report *string
	if p.Counts != nil {
		c := store.MarshalCounts(p.Counts)
		counts = &c
	}
	if p.Report != nil {
		r := store.MarshalReport(p.Report)
		report = &r
	}
	tag, err := q.db.Exec(ctx, `
UPDATE events SET
    status = $2,
    status_reason = $3,
    updated_at = $4,
    published_at = CASE WHEN $2 = 'published' AND NOT $8 THEN $4 ELSE published_at END,
    channel = CASE WHEN $5 <> '' THEN $5 ELSE channel END,
    counts = coalesce($6, counts),
    report = coalesce($7, report)
WHERE id = $1 AND status = CASE WHEN $8 THEN 'published' ELSE 'pending' END`,
		p.ID, string(p.Status), p.Reason, at, string(p.Channel), counts, report, p.InsertedPublished)
	if err != nil {
		return fmt.Errorf("postgres: event finish %d: %w", p.ID, mapErr(err, ""))
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var status string
	if err := q.db.QueryRow(ctx, `SELECT status FROM events WHERE id = $1`, p.ID).Scan(&status); err != nil {
		return fmt.Errorf("postgres: event finish %d: %w", p.ID, mapErr(err, ""))
	}
	return store.Errorf(store.ErrConflict, "event %d is already %s", p.ID, status)
}

// EventCancelPending cancels the pending events of p's context (and key,
// when given), except p.ExceptID, and returns their ids in ascending order.
func (q *queries) EventCancelPending(ctx context.Context, p *store.EventCancelPendingParams) ([]int64, error) {
	if p.ContextType == "" {
		return nil, fmt.Errorf("postgres: event cancel pending: %w", store.Invalid("context_type", "must not be empty"))
	}
	if p.ContextID == "" {
		return nil, fmt.Errorf("postgres: event cancel pending: %w", store.Invalid("context_id", "must not be empty"))
	}
	rows, err := q.db.Query(ctx, `
UPDATE events SET status = 'cancelled', status_reason = $5, updated_at = $6
WHERE status = 'pending' AND context_type <> '' AND context_type = $1 AND context_id = $2
    AND ($3 = '' OR key = $3) AND id <> $4
RETURNING id`,
		p.ContextType, p.ContextID, p.Key, p.ExceptID, p.Reason, tsOrNow(p.At))
	if err != nil {
		return nil, fmt.Errorf("postgres: event cancel pending: %w", mapErr(err, ""))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: event cancel pending: %w", mapErr(err, ""))
	}
	slices.Sort(ids)
	return ids, nil
}

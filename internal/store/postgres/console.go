package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// StatsGet returns the dashboard's figures. Every figure is read from an
// index: events published since p.Since (partial index on published_at),
// pending events (partial index on due_at), unsent deliveries (index on
// state).
func (q *queries) StatsGet(ctx context.Context, p *store.StatsParams) (*store.Stats, error) {
	since, now := ts(p.Since), ts(p.Now)
	st := &store.Stats{Reached: map[store.Channel]int{}, Deliveries: map[store.DeliveryState]int{}}
	for _, ch := range store.Channels {
		st.Reached[ch] = 0
	}
	for _, s := range store.DeliveryStates {
		if s != store.DeliverySent && s != store.DeliverySkipped { // the unsent ones
			st.Deliveries[s] = 0
		}
	}
	fail := func(what string, err error) error {
		return fmt.Errorf("postgres: stats: %s: %w", what, mapErr(err, ""))
	}
	if err := q.db.QueryRow(ctx, `SELECT count(*) FROM events WHERE published_at >= $1`, since).
		Scan(&st.PublishedEvents); err != nil {
		return nil, fail("published", err)
	}
	var (
		ch string
		n  int
	)
	rows, err := q.db.Query(ctx, `
SELECT c.key, sum(c.value::bigint) FROM events e, jsonb_each_text(e.counts::jsonb) AS c
WHERE e.published_at >= $1 GROUP BY c.key`, since)
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&ch, &n}, func() error {
			st.Reached[store.Channel(ch)] = n
			return nil
		})
	}
	if err != nil {
		return nil, fail("reached", err)
	}
	if err := q.db.QueryRow(ctx, `
SELECT count(*), count(*) FILTER (WHERE due_at <= $1),
    min(due_at) FILTER (WHERE due_at <= $1), min(due_at) FILTER (WHERE due_at > $1)
FROM events WHERE status = 'pending'`, now).Scan(&st.PendingEvents, &st.OverdueEvents, &st.OldestOverdue, &st.NextDue); err != nil {
		return nil, fail("pending", err)
	}
	rows, err = q.db.Query(ctx, `
SELECT state, count(*) FROM deliveries
WHERE state IN ('queued', 'sending', 'retrying', 'failed') GROUP BY state`)
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&ch, &n}, func() error {
			st.Deliveries[store.DeliveryState(ch)] = n
			return nil
		})
	}
	if err != nil {
		return nil, fail("deliveries", err)
	}
	st.OldestOverdue, st.NextDue = utcPtr(st.OldestOverdue), utcPtr(st.NextDue)
	return st, nil
}

// likePattern makes an ILIKE pattern matching s anywhere, with its % and _
// taken literally.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// UserSearch finds users by id, name or e-mail, and by follower. A name or
// e-mail search reads the whole users table: a directory is thousands of
// rows, not millions.
func (q *queries) UserSearch(ctx context.Context, p *store.UserSearchParams) ([]store.User, error) {
	query := strings.TrimSpace(p.Query)
	rows, err := q.db.Query(ctx, userSelect+`
WHERE ($1 = '' OR id = $1 OR name ILIKE $2 OR email ILIKE $2)
    AND ($3 = '' OR follower_id = $3)
ORDER BY id = $1 DESC, name, id
LIMIT $4 OFFSET $5`,
		query, likePattern(query), p.FollowerID, limit(p.Limit, 50, 500), max(p.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("postgres: user search: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: user search: %w", mapErr(err, ""))
	}
	if out == nil {
		out = []store.User{}
	}
	return out, nil
}

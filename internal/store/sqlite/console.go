package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// StatsGet implements store.Queries. Every figure is read from an index:
// events published since p.Since (partial index on published_at), pending
// events (partial index on due_at), unsent deliveries (index on state).
func (q *queries) StatsGet(ctx context.Context, p *store.StatsParams) (*store.Stats, error) {
	since, now := ts(p.Since), ts(p.Now)
	st := &store.Stats{Reached: map[store.Channel]int{}, Deliveries: map[store.DeliveryState]int{}}
	for _, ch := range store.Channels {
		st.Reached[ch] = 0
	}
	if err := q.r.QueryRowContext(ctx, `SELECT count(*) FROM events
		WHERE published_at >= ? AND published_at IS NOT NULL`, since).Scan(&st.PublishedEvents); err != nil {
		return nil, mapErr("stats: published", err)
	}
	rows, err := q.r.QueryContext(ctx, `SELECT j.key, sum(j.value) FROM events e, json_each(e.counts) j
		WHERE e.published_at >= ? AND e.published_at IS NOT NULL GROUP BY j.key`, since)
	if err != nil {
		return nil, mapErr("stats: reached", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch string
		var n int
		if err := rows.Scan(&ch, &n); err != nil {
			return nil, mapErr("stats: reached", err)
		}
		st.Reached[store.Channel(ch)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("stats: reached", err)
	}
	if err := q.r.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE due_at <= ?)
		FROM events WHERE status = 'pending'`, now).Scan(&st.PendingEvents, &st.OverdueEvents); err != nil {
		return nil, mapErr("stats: pending", err)
	}
	// due_at itself, not min(due_at): an aggregate loses the column's
	// DATETIME type and would come back as text.
	if st.OldestOverdue, err = q.dueAt(ctx, `due_at <= ? ORDER BY due_at`, now); err != nil {
		return nil, err
	}
	if st.NextDue, err = q.dueAt(ctx, `due_at > ? ORDER BY due_at`, now); err != nil {
		return nil, err
	}
	for _, s := range store.DeliveryStates {
		if s != store.DeliverySent && s != store.DeliverySkipped { // the unsent ones
			st.Deliveries[s] = 0
		}
	}
	drows, err := q.r.QueryContext(ctx, `SELECT state, count(*) FROM deliveries
		WHERE state IN ('queued', 'sending', 'retrying', 'failed') GROUP BY state`)
	if err != nil {
		return nil, mapErr("stats: deliveries", err)
	}
	defer drows.Close()
	for drows.Next() {
		var s string
		var n int
		if err := drows.Scan(&s, &n); err != nil {
			return nil, mapErr("stats: deliveries", err)
		}
		st.Deliveries[store.DeliveryState(s)] = n
	}
	return st, mapErr("stats: deliveries", drows.Err())
}

// dueAt returns the due time of the first pending event matching cond.
func (q *queries) dueAt(ctx context.Context, cond string, arg any) (*time.Time, error) {
	var t sql.NullTime
	err := q.r.QueryRowContext(ctx, `SELECT due_at FROM events WHERE status = 'pending' AND `+cond+` LIMIT 1`, arg).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("stats: due", err)
	}
	return timePtr(t), nil
}

// likePattern makes a LIKE pattern matching s anywhere, with its % and _
// taken literally (ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// UserSearch implements store.Queries. A name or e-mail search reads the
// whole users table: a directory is thousands of rows, not millions.
func (q *queries) UserSearch(ctx context.Context, p *store.UserSearchParams) ([]store.User, error) {
	query := strings.TrimSpace(p.Query)
	like := likePattern(query)
	rows, err := q.r.QueryContext(ctx, `SELECT u.id, u.email, u.name, u.locale, u.active, coalesce(u.follower_id, ''), u.account_type, u.updated_at, u.time_zone,
			(SELECT json_group_array(group_name ORDER BY group_name) FROM user_groups WHERE user_id = u.id),
			(SELECT json_group_array(company_id ORDER BY company_id) FROM company_members WHERE user_id = u.id)
		FROM users u
		WHERE (? = '' OR u.id = ? OR u.name LIKE ? ESCAPE '\' OR u.email LIKE ? ESCAPE '\')
			AND (? = '' OR u.follower_id = ?)
		ORDER BY u.id = ? DESC, u.name, u.id
		LIMIT ? OFFSET ?`,
		query, query, like, like, p.FollowerID, p.FollowerID, query,
		clampLimit(p.Limit, 50, 500), max(p.Offset, 0))
	if err != nil {
		return nil, mapErr("user search", err)
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		var u store.User
		var groups, companies string
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Locale, &u.Active, &u.FollowerID, &u.AccountType, &u.UpdatedAt, &u.TimeZone, &groups, &companies); err != nil {
			return nil, mapErr("user search", err)
		}
		u.UpdatedAt = u.UpdatedAt.UTC()
		if err := json.Unmarshal([]byte(groups), &u.Groups); err != nil {
			return nil, fmt.Errorf("sqlite: user search: groups of %q: %w", u.ID, err)
		}
		if err := json.Unmarshal([]byte(companies), &u.Companies); err != nil {
			return nil, fmt.Errorf("sqlite: user search: companies of %q: %w", u.ID, err)
		}
		out = append(out, u)
	}
	return out, mapErr("user search", rows.Err())
}

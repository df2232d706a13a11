package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database. Only the routes
// given take part; with a single one, no UNION is needed to make users
// unique (a group's members and a company's are unique already).
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	if !p.Channel.InApp() {
		return 0, fmt.Errorf("postgres: notification fan-out: %w",
			store.Invalid("channel", "%q is not an in-app channel", p.Channel))
	}
	at := tsOrNow(p.CreatedAt)
	args := []any{p.EventID, string(p.Channel), at, tsPtr(p.ExpiresAt)}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	var routes []string
	if len(p.GroupNames) > 0 {
		distinct := ""
		if len(p.GroupNames) > 1 {
			distinct = "DISTINCT "
		}
		routes = append(routes, `SELECT `+distinct+`g.user_id AS id FROM user_groups g WHERE g.group_name = ANY(`+arg(p.GroupNames)+`::text[])`)
	}
	if len(p.UserIDs) > 0 {
		routes = append(routes, `SELECT DISTINCT unnest(`+arg(p.UserIDs)+`::text[]) AS id`)
	}
	if p.CompanyID != "" {
		routes = append(routes, `SELECT m.user_id AS id FROM company_members m
    JOIN companies c ON c.id = m.company_id AND c.active WHERE m.company_id = `+arg(p.CompanyID))
	}
	if len(routes) == 0 {
		return 0, nil
	}
	// The ids' range goes to the feed's listeners with the event id: the
	// range may hold other events' rows (concurrent fan-outs interleave),
	// the event id tells them apart.
	var n, first, last int64
	err := q.atomic(ctx, func(q *queries) error {
		err := q.db.QueryRow(ctx, `
WITH ins AS (
    INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
    SELECT $1, r.id, $2, $3, $3, $4 FROM (`+strings.Join(routes, " UNION ")+`) r
    JOIN users u ON u.id = r.id AND u.active
    RETURNING id)
SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM ins`, args...).Scan(&n, &first, &last)
		if err != nil || n == 0 {
			return mapErr(err, "")
		}
		return q.signal(ctx, fmt.Sprintf("%s:%d:%d:%d", signalNotifications, p.EventID, first, last))
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: notification fan-out: %w", err)
	}
	return int(n), nil
}

package sqlite

import (
	"context"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database. Only the routes
// given take part; with a single one, no UNION is needed to make users
// unique (a group's members and a company's are unique already).
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	at := ts(p.CreatedAt)
	args := []any{p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt)}
	var routes []string
	if len(p.GroupNames) > 0 {
		distinct := ""
		if len(p.GroupNames) > 1 {
			distinct = "DISTINCT "
		}
		routes = append(routes, `SELECT `+distinct+`g.user_id AS id FROM user_groups g WHERE g.group_name IN (SELECT value FROM json_each(?))`)
		args = append(args, jsonList(p.GroupNames))
	}
	if len(p.UserIDs) > 0 {
		routes = append(routes, `SELECT DISTINCT value AS id FROM json_each(?)`)
		args = append(args, jsonList(p.UserIDs))
	}
	if p.CompanyID != "" {
		routes = append(routes, `SELECT m.user_id AS id FROM company_members m
			JOIN companies c ON c.id = m.company_id AND c.active WHERE m.company_id = ?`)
		args = append(args, p.CompanyID)
	}
	if len(routes) == 0 {
		return 0, nil
	}
	res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, r.id, ?, ?, ?, ? FROM (`+strings.Join(routes, " UNION ")+`) r
		JOIN users u ON u.id = r.id AND u.active`, args...)
	if err != nil {
		return 0, mapErr("notification fan-out", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("notification fan-out", err)
}

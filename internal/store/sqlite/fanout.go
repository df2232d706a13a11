package sqlite

import (
	"context"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database.
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	at := ts(p.CreatedAt)
	res, err := q.w.ExecContext(ctx, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
		SELECT ?, r.id, ?, ?, ?, ? FROM (
			SELECT g.user_id AS id FROM user_groups g WHERE g.group_name IN (SELECT value FROM json_each(?))
			UNION
			SELECT value FROM json_each(?)
			UNION
			SELECT m.user_id FROM company_members m JOIN companies c ON c.id = m.company_id AND c.active
			WHERE m.company_id = ?
		) r JOIN users u ON u.id = r.id AND u.active`,
		p.EventID, string(p.Channel), at, at, tsPtr(p.ExpiresAt), jsonList(p.GroupNames), jsonList(p.UserIDs), p.CompanyID)
	if err != nil {
		return 0, mapErr("notification fan-out", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("notification fan-out", err)
}

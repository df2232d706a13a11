package postgres

import (
	"context"
	"fmt"

	"github.com/cloche/cloche/internal/store"
)

// NotificationFanOut resolves the routes and inserts the notifications in
// one statement: the user ids never leave the database.
func (q *queries) NotificationFanOut(ctx context.Context, p *store.NotificationFanOutParams) (int, error) {
	if !p.Channel.InApp() {
		return 0, fmt.Errorf("postgres: notification fan-out: %w",
			store.Invalid("channel", "%q is not an in-app channel", p.Channel))
	}
	groups, users := p.GroupNames, p.UserIDs
	if groups == nil {
		groups = []string{}
	}
	if users == nil {
		users = []string{}
	}
	at := tsOrNow(p.CreatedAt)
	tag, err := q.db.Exec(ctx, `
INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, expires_at)
SELECT $1, r.id, $2, $3, $3, $4 FROM (
    SELECT g.user_id AS id FROM user_groups g WHERE g.group_name = ANY($5::text[])
    UNION
    SELECT unnest($6::text[])
    UNION
    SELECT m.user_id FROM company_members m JOIN companies c ON c.id = m.company_id AND c.active
    WHERE m.company_id = $7
) r JOIN users u ON u.id = r.id AND u.active`,
		p.EventID, string(p.Channel), at, tsPtr(p.ExpiresAt), groups, users, p.CompanyID)
	if err != nil {
		return 0, fmt.Errorf("postgres: notification fan-out: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

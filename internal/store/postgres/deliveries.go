package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// DeliveryInsertMany queues one e-mail of event p.EventID per recipient,
// skipping addresses the event already has, and returns how many were
// queued. CreatedAt is now when zero.
func (q *queries) DeliveryInsertMany(ctx context.Context, p *store.DeliveryInsertManyParams) (int, error) {
	if len(p.Recipients) == 0 {
		return 0, nil
	}
	users := make([]string, len(p.Recipients))
	companies := make([]string, len(p.Recipients))
	addresses := make([]string, len(p.Recipients))
	reasons := make([]string, len(p.Recipients))
	targets := make([]string, len(p.Recipients))
	channel := store.ChannelOrEmail(p.Channel)
	for i, r := range p.Recipients {
		users[i], companies[i], reasons[i] = r.UserID, r.CompanyID, r.Reason
		addresses[i], targets[i] = store.DeliveryAddress(channel, r)
	}
	tag, err := q.db.Exec(ctx, `
INSERT INTO deliveries (event_id, user_id, company_id, address, reason, state, created_at, updated_at, channel, target)
SELECT $1, r.user_id, r.company_id, r.address, r.reason, 'queued', $5, $5, $7, r.target
FROM unnest($2::text[], $3::text[], $4::text[], $6::text[], $8::text[]) WITH ORDINALITY AS r (user_id, company_id, address, reason, target, n)
ORDER BY r.n
ON CONFLICT (event_id, address) DO NOTHING`,
		p.EventID, users, companies, addresses, tsOrNow(p.CreatedAt), reasons, channel, targets)
	if err != nil {
		return 0, fmt.Errorf("postgres: delivery insert: %w", mapErr(err, ""))
	}
	return int(tag.RowsAffected()), nil
}

// DeliveryList returns deliveries newest first, filtered by p.
func (q *queries) DeliveryList(ctx context.Context, p *store.DeliveryListParams) ([]store.Delivery, error) {
	var w where
	if p.Channel != "" {
		w.add("channel = ?", p.Channel)
	}
	if p.EventID > 0 {
		w.add("event_id = ?", p.EventID)
	}
	if p.State != "" {
		w.add("state = ?", string(p.State))
	}
	if p.BeforeID > 0 {
		w.add("id < ?", p.BeforeID)
	}
	sql := `
SELECT ` + deliveryColumns + `
FROM deliveries` + w.sql() + ` ORDER BY id DESC LIMIT ` + w.arg(limit(p.Limit, defaultListLimit, maxListLimit))
	rows, err := q.db.Query(ctx, sql, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery list: %w", mapErr(err, ""))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Delivery, error) {
		return scanDelivery(r)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: delivery list: %w", mapErr(err, ""))
	}
	return out, nil
}

package sqlite

import (
	"context"
	"fmt"
	"slices"

	"github.com/cloche/cloche/internal/store"
)

func (q *queries) EventClaim(ctx context.Context, p *store.EventClaimParams) (bool, error) {
	res, err := q.w.ExecContext(ctx, `UPDATE events SET claimed_until = ?, attempts = attempts + 1
		WHERE id = ? AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)`,
		ts(p.Until), p.ID, ts(p.Now))
	if err != nil {
		return false, mapErr(fmt.Sprintf("event claim %d", p.ID), err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(fmt.Sprintf("event claim %d", p.ID), err)
}

// eventUnattended is the condition on a pending event no job is on at ?1,
// never claimed when due before ?2.
const eventUnattended = `status = 'pending' AND due_at <= ?1 AND (
		(claimed_until IS NOT NULL AND claimed_until <= ?1) OR
		(claimed_until IS NULL AND attempts = 0 AND due_at <= ?2))`

func (q *queries) EventClaimDue(ctx context.Context, p *store.EventClaimDueParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	rows, err := q.w.QueryContext(ctx, `UPDATE events SET claimed_until = NULL, attempts = attempts + 1
		WHERE id IN (SELECT id FROM events WHERE `+eventUnattended+` ORDER BY due_at LIMIT ?3)
		RETURNING id`, ts(p.Now), ts(p.NeverClaimedBefore), p.Limit)
	if err != nil {
		return nil, mapErr("event claim due", err)
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("event claim due", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr("event claim due", err)
	}
	slices.Sort(ids)
	return ids, nil
}

func (q *queries) EventRelease(ctx context.Context, id int64) error {
	_, err := q.w.ExecContext(ctx, `UPDATE events SET claimed_until = NULL WHERE id = ?`, id)
	return mapErr(fmt.Sprintf("event release %d", id), err)
}

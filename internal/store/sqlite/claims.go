package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

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
const eventUnattended = `status = 'pending' AND check_url <> '' AND due_at <= ?1 AND (
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
	return scanIDs(rows, "event claim due")
}

// scanIDs reads a column of ids, sorted.
func scanIDs(rows *sql.Rows, op string) ([]int64, error) {
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr(op, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	slices.Sort(ids)
	return ids, nil
}

// EventClaimBatch and EventNextDue name their index: without statistics
// SQLite would take events_status, then sort every pending event.
func (q *queries) EventClaimBatch(ctx context.Context, p *store.EventClaimBatchParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	rows, err := q.w.QueryContext(ctx, `UPDATE events SET claimed_until = ?2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM events INDEXED BY events_due_batch WHERE status = 'pending' AND due_at <= ?1 AND check_url = ''
			AND (claimed_until IS NULL OR claimed_until <= ?1) ORDER BY due_at LIMIT ?3)
		RETURNING id`, ts(p.Now), ts(p.Until), p.Limit)
	if err != nil {
		return nil, mapErr("event claim batch", err)
	}
	return scanIDs(rows, "event claim batch")
}

func (q *queries) EventNextDue(ctx context.Context, now time.Time) (*time.Time, error) {
	var t time.Time
	err := q.r.QueryRowContext(ctx, `SELECT due_at FROM events INDEXED BY events_due_batch WHERE status = 'pending' AND check_url = ''
		AND (claimed_until IS NULL OR claimed_until <= ?) ORDER BY due_at LIMIT 1`, ts(now)).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, mapErr("event next due", err)
	}
	t = t.UTC()
	return &t, nil
}

func (q *queries) EventRelease(ctx context.Context, id int64) error {
	_, err := q.w.ExecContext(ctx, `UPDATE events SET claimed_until = NULL WHERE id = ?`, id)
	return mapErr(fmt.Sprintf("event release %d", id), err)
}

// EventLockDue reads the due events without check_url that no claim
// holds (store.EventClaims): inside a transaction, SQLite's one writer
// holds them all until it ends, and nothing needs writing.
func (q *queries) EventLockDue(ctx context.Context, p *store.EventClaimBatchParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	rows, err := q.w.QueryContext(ctx, `SELECT id FROM events INDEXED BY events_due_batch WHERE status = 'pending' AND due_at <= ?1 AND check_url = ''
		AND (claimed_until IS NULL OR claimed_until <= ?1) ORDER BY due_at LIMIT ?2`, ts(p.Now), p.Limit)
	if err != nil {
		return nil, mapErr("event lock due", err)
	}
	ids, err := scanIDs(rows, "event lock due")
	if err != nil {
		return nil, err
	}
	slices.Sort(ids)
	return ids, nil
}

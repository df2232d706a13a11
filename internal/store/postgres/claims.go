package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

// EventClaim claims a pending event nobody holds (store.EventClaims).
func (q *queries) EventClaim(ctx context.Context, p *store.EventClaimParams) (bool, error) {
	tag, err := q.db.Exec(ctx, `
UPDATE events SET claimed_until = $2, attempts = attempts + 1
WHERE id = $1 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= $3)`,
		p.ID, ts(p.Until), ts(p.Now))
	if err != nil {
		return false, fmt.Errorf("postgres: event claim %d: %w", p.ID, mapErr(err, ""))
	}
	return tag.RowsAffected() == 1, nil
}

// eventUnattended is the condition on a pending event no job is on at $1,
// never claimed when due before $2. The UPDATE repeats it outside its
// subquery: a row another sweep changed meanwhile is checked again. The
// subquery is materialised: inlined, its LIMIT could be applied more than
// once. The UPDATE finds the picked rows by primary key (= ANY of their
// ids), not by a join to the CTE (see EventClaimBatch).
const eventUnattended = `status = 'pending' AND check_url <> '' AND due_at <= $1 AND (
    (claimed_until IS NOT NULL AND claimed_until <= $1) OR
    (claimed_until IS NULL AND attempts = 0 AND due_at <= $2))`

// EventClaimDue hands back the due events no job is on (store.EventClaims).
func (q *queries) EventClaimDue(ctx context.Context, p *store.EventClaimDueParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	rows, err := q.db.Query(ctx, `
WITH picked AS MATERIALIZED (
    SELECT id FROM events WHERE `+eventUnattended+` ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
UPDATE events SET claimed_until = NULL, attempts = attempts + 1
WHERE id = ANY(ARRAY(SELECT id FROM picked)) AND `+eventUnattended+`
RETURNING events.id`, ts(p.Now), ts(p.NeverClaimedBefore), p.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: event claim due: %w", mapErr(err, ""))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: event claim due: %w", mapErr(err, ""))
	}
	if ids == nil {
		ids = []int64{}
	}
	slices.Sort(ids)
	return ids, nil
}

// EventClaimBatch claims due events without check_url (store.EventClaims).
func (q *queries) EventClaimBatch(ctx context.Context, p *store.EventClaimBatchParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	// The rows picked are locked, and a row changed by another claim
	// before the lock is checked against the condition again (READ
	// COMMITTED's recheck of FOR UPDATE), so the UPDATE needs only their
	// ids: by primary key. Joined to the CTE, or with the condition
	// repeated, the planner (which sees one due row where a burst has
	// thousands) scanned every due event for each claim: a burst of
	// 20,000 was claimed at 250 a second.
	const cond = `status = 'pending' AND due_at <= $1 AND check_url = ''
    AND (claimed_until IS NULL OR claimed_until <= $1)`
	rows, err := q.db.Query(ctx, `
WITH picked AS MATERIALIZED (
    SELECT id FROM events WHERE `+cond+` ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
UPDATE events SET claimed_until = $2, attempts = attempts + 1
WHERE id = ANY(ARRAY(SELECT id FROM picked))
RETURNING events.id`, ts(p.Now), ts(p.Until), p.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: event claim batch: %w", mapErr(err, ""))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: event claim batch: %w", mapErr(err, ""))
	}
	if ids == nil {
		ids = []int64{}
	}
	slices.Sort(ids)
	return ids, nil
}

// EventRelease ends the claim on an event (store.EventClaims).
func (q *queries) EventRelease(ctx context.Context, id int64) error {
	if _, err := q.db.Exec(ctx, `UPDATE events SET claimed_until = NULL WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: event release %d: %w", id, mapErr(err, ""))
	}
	return nil
}

// EventNextDue is when the due loop looks again (store.EventClaims).
func (q *queries) EventNextDue(ctx context.Context, now time.Time) (*time.Time, error) {
	var t time.Time
	err := q.db.QueryRow(ctx, `
SELECT due_at FROM events WHERE status = 'pending' AND check_url = ''
    AND (claimed_until IS NULL OR claimed_until <= $1) ORDER BY due_at LIMIT 1`, ts(now)).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: event next due: %w", mapErr(err, ""))
	}
	t = t.UTC()
	return &t, nil
}

// EventLockDue locks due events without check_url for the transaction
// (store.EventClaims): FOR UPDATE SKIP LOCKED, so that publishers share a
// burst without waiting on one another, and nothing written. It first
// sets the transaction's idle_in_transaction_session_timeout to the
// lease, so that a client gone silent loses its hold.
func (q *queries) EventLockDue(ctx context.Context, p *store.EventClaimBatchParams) ([]int64, error) {
	if p.Limit <= 0 {
		return nil, nil
	}
	lease := max(p.Until.Sub(p.Now).Milliseconds(), 1000)
	if _, err := q.db.Exec(ctx, `SELECT set_config('idle_in_transaction_session_timeout', $1, true)`, strconv.FormatInt(lease, 10)); err != nil {
		return nil, fmt.Errorf("postgres: event lock due: %w", mapErr(err, ""))
	}
	rows, err := q.db.Query(ctx, `
SELECT id FROM events
WHERE status = 'pending' AND due_at <= $1 AND check_url = ''
    AND (claimed_until IS NULL OR claimed_until <= $1)
ORDER BY due_at
LIMIT $2
FOR UPDATE SKIP LOCKED`, ts(p.Now), p.Limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: event lock due: %w", mapErr(err, ""))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("postgres: event lock due: %w", mapErr(err, ""))
	}
	if ids == nil {
		ids = []int64{}
	}
	slices.Sort(ids)
	return ids, nil
}

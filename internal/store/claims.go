package store

import (
	"context"
	"time"
)

// EventClaims are how publish jobs share out scheduled events. A job claims
// its event for a lease before it publishes it; while the lease runs, no
// other job may claim it. When the process holding a claim dies, the lease
// lapses and EventClaimDue hands the event back to the queue.
type EventClaims interface {
	// EventClaim claims pending event ID until Until, counting an attempt,
	// if no other claim holds it at Now. It reports false, and changes
	// nothing, when the event is no longer pending, is claimed, or does
	// not exist.
	EventClaim(ctx context.Context, p *EventClaimParams) (bool, error)
	// EventClaimDue finds up to Limit pending events with a check_url, due
	// at Now, that no live job is on: those whose claim lapsed before Now, and those never
	// claimed nor handed back that fell due before NeverClaimedBefore. It
	// clears their claim, counts an attempt and returns their ids, so that
	// the caller enqueues a publish job for each in the same transaction.
	// An event is returned by one call only, however many run at once.
	EventClaimDue(ctx context.Context, p *EventClaimDueParams) ([]int64, error)
	// EventClaimBatch claims until Until up to Limit pending events due at
	// Now that have no check_url and no running claim, counting an attempt,
	// and returns their ids: one job publishes them all at once.
	EventClaimBatch(ctx context.Context, p *EventClaimBatchParams) ([]int64, error)
	// EventLockDue is EventClaimBatch without the lease: it takes, for
	// the rest of the transaction, up to Limit pending events due at Now
	// that have no check_url and no running claim, skipping those another
	// transaction holds, and returns their ids in ascending order. It
	// writes nothing: should the transaction end without publishing them,
	// they are due again at once. The database ends the transaction (and
	// its hold) should its client stay silent for Until − Now. Call it
	// inside a transaction.
	EventLockDue(ctx context.Context, p *EventClaimBatchParams) ([]int64, error)
	// EventNextDue is the earliest due time of a pending event without
	// check_url that no running claim holds at now (in the past when one
	// is due already), nil when there is none: the due loop sleeps until
	// then.
	EventNextDue(ctx context.Context, now time.Time) (*time.Time, error)
	// EventRelease ends the claim on event ID (a job that will retry later
	// hands it back to its own retry).
	EventRelease(ctx context.Context, id int64) error
}

// EventClaimParams claims one event.
type EventClaimParams struct {
	ID    int64
	Now   time.Time
	Until time.Time
}

// EventClaimDueParams selects the due events no job is on.
type EventClaimDueParams struct {
	Now                time.Time
	NeverClaimedBefore time.Time
	Limit              int
}

// EventClaimBatchParams claims due events without check_url.
type EventClaimBatchParams struct {
	Now   time.Time
	Until time.Time
	Limit int
}

package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/cloche/cloche/internal/store"
)

// DefaultIdempotencyTTL is how long an idempotency key is remembered.
const DefaultIdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKeyLen bounds an idempotency key.
const MaxIdempotencyKeyLen = 255

// Idempotency identifies a request that may be retried: Key is the
// sender's, Scope whose key it is (senders do not share keys), and
// Fingerprint a hash of the request, so that a key reused for another
// request is refused rather than answered with the wrong result.
type Idempotency struct {
	Scope       string
	Key         string
	Fingerprint string
}

// IdempotencyField names the input that carries the key, in errors.
const IdempotencyField = "Idempotency-Key"

func validateIdempotency(i *Idempotency) error {
	if i == nil {
		return nil
	}
	if err := store.CheckText(IdempotencyField, i.Key); err != nil {
		return err
	}
	switch {
	case i.Key == "":
		return store.Invalid(IdempotencyField, "must not be empty")
	case len(i.Key) > MaxIdempotencyKeyLen:
		return store.Invalid(IdempotencyField, "is longer than %d bytes", MaxIdempotencyKeyLen)
	case strings.IndexFunc(i.Key, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return store.Invalid(IdempotencyField, "must be printable text")
	}
	return nil
}

func (d *Dispatcher) idempotencyTTL() time.Duration {
	if d.cfg.IdempotencyTTL > 0 {
		return d.cfg.IdempotencyTTL
	}
	return DefaultIdempotencyTTL
}

// claimIdempotency claims the key inside tx. It returns the stored result
// when the same request was made before (nil when this one goes ahead), and
// a field error when the key was used for another request.
func (d *Dispatcher) claimIdempotency(ctx context.Context, tx store.Tx, i *Idempotency, now time.Time) (*Result, error) {
	prev, err := tx.IdempotencyClaim(ctx, &store.IdempotencyClaimParams{
		Record:        store.IdempotencyRecord{Scope: i.Scope, Key: i.Key, Fingerprint: i.Fingerprint, CreatedAt: now},
		ExpiredBefore: now.Add(-d.idempotencyTTL()),
	})
	if err != nil || prev == nil {
		return nil, err
	}
	if prev.Fingerprint != i.Fingerprint {
		return nil, store.Invalid(IdempotencyField, "%q was used for a different request in the last %s", i.Key, d.idempotencyTTL()).
			WithHint("use a new key for a new request")
	}
	if prev.Result == "" {
		// Claims are completed in the transaction that makes them, so this
		// is a record another version left half done.
		return nil, fmt.Errorf("idempotency key %q has no stored result: %w", i.Key, store.ErrConflict)
	}
	var res Result
	if err := json.Unmarshal([]byte(prev.Result), &res); err != nil {
		return nil, fmt.Errorf("idempotency key %q: stored result: %w", i.Key, err)
	}
	res.Replayed = true
	return &res, nil
}

// completeIdempotency stores res as the answer to the claimed key.
func (d *Dispatcher) completeIdempotency(ctx context.Context, tx store.Tx, i *Idempotency, res *Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("idempotency key %q: %w", i.Key, err)
	}
	return tx.IdempotencyComplete(ctx, &store.IdempotencyRecord{Scope: i.Scope, Key: i.Key, Result: string(b)})
}

// PurgeIdempotency forgets the idempotency keys older than their TTL.
func (d *Dispatcher) PurgeIdempotency(ctx context.Context) (int, error) {
	return d.store.IdempotencyPurge(ctx, d.now().Add(-d.idempotencyTTL()))
}

// Observe registers fn to run after each event's fan-out commits, for an
// immediate notify or a scheduled publication. fn must not block.
func (d *Dispatcher) Observe(fn func(ctx context.Context, ev *store.Event)) {
	for {
		old := d.observers.Load()
		var next []func(ctx context.Context, ev *store.Event)
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, fn)
		if d.observers.CompareAndSwap(old, &next) {
			return
		}
	}
}

// afterPublish runs the hooks of a published event.
func (d *Dispatcher) afterPublish(ctx context.Context, ev *store.Event) {
	if obs := d.observers.Load(); obs != nil {
		for _, fn := range *obs {
			fn(ctx, ev)
		}
	}
}

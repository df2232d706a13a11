package outbound

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/store"
)

// A claim is a lease on its deliveries (Config.Lease). While this process
// holds claims, it renews them every quarter of the lease, until their
// outcomes are recorded: a slow mail server never lets a live claim lapse.
// A claim younger than an eighth of the lease is left for the next round:
// most batches are recorded before they are that old.
// A claim lapses only when its process died or lost the database for half
// a lease; the watcher of every process that can send the channel then
// starts a job, which takes its deliveries again (with their Message-IDs).
// The lease is written and judged on the service's clock, the one other
// claims compare it with: a claim that finds less than half its lease
// left when a message would start (its process stalled between reading
// the time and claiming, say) sends nothing more and gives the rest back.

// leases are the claims this process holds.
type leases struct {
	held     map[string]claim
	renewing bool // a renewal loop runs
}

// hold records a claim as held, and starts renewing.
func (r *Runner) hold(c claim) {
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	r.leases.held[c.owner] = c
	if !r.leases.renewing {
		r.leases.renewing = true
		go r.renewLoop()
	}
}

// drop forgets a claim: recorded, or empty.
func (r *Runner) drop(owner string) {
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	delete(r.leases.held, owner)
}

// owners are the claims held now whose lease is known to end before
// until (Unix nanoseconds; 0: all of them).
func (r *Runner) owners(until int64) ([]string, []claim) {
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	owners := make([]string, 0, len(r.leases.held))
	claims := make([]claim, 0, len(r.leases.held))
	for o, c := range r.leases.held {
		if until == 0 || c.held.Load() < until {
			owners = append(owners, o)
			claims = append(claims, c)
		}
	}
	return owners, claims
}

// renewLoop renews the held claims every quarter of the lease, and ends
// when none is held.
func (r *Runner) renewLoop() {
	every := r.cfg.Lease / 4
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		r.leaseMu.Lock()
		if len(r.leases.held) == 0 {
			r.leases.renewing = false
			r.leaseMu.Unlock()
			return
		}
		r.leaseMu.Unlock()
		r.renew(every)
	}
}

// renew extends every held claim older than an eighth of the lease by a
// lease from now, in one statement.
func (r *Runner) renew(within time.Duration) {
	start := r.now()
	owners, claims := r.owners(start.Add(r.cfg.Lease - r.cfg.Lease/8).UnixNano())
	if len(owners) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if _, err := r.st.DeliveryRenew(ctx, &store.DeliveryRenewParams{Owners: owners, LeaseUntil: r.now().Add(r.cfg.Lease)}); err != nil {
		r.logger.WarnContext(ctx, r.Name()+": renew the claims being sent, will try again", "claims", len(owners), "err", err)
		return
	}
	// A renewal that ends after a claim's lease may have lapsed proves
	// nothing of it: another process may have taken its deliveries just
	// before. That claim is left to run out.
	done, until := r.now().UnixNano(), start.Add(r.cfg.Lease).UnixNano()
	for _, c := range claims {
		for {
			old := c.held.Load()
			if old >= until || done >= old || c.held.CompareAndSwap(old, until) {
				break
			}
		}
	}
}

// countRescued counts and logs the deliveries of a claim taken from a
// claim that lapsed.
func (r *Runner) countRescued(ctx context.Context, batch []store.ClaimedDelivery) {
	n := 0
	for _, d := range batch {
		if d.Rescued {
			n++
		}
	}
	if n > 0 {
		r.rescued.Add(int64(n))
		r.logger.InfoContext(ctx, r.Name()+": took again deliveries whose claim lapsed (a process died while sending)", "count", n)
	}
}

// Watch starts, in a process that can send the channel, the watcher of
// other processes' claims: when one lapses, a job takes its deliveries
// again at once, instead of at the next sweep. Close stops it.
func (r *Runner) Watch(ctx context.Context) {
	if !r.ch.Ready() {
		return
	}
	r.leaseMu.Lock()
	defer r.leaseMu.Unlock()
	if r.watchStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	r.watchStop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		r.watch(ctx)
	}()
}

// watch sleeps until the next lapse of another owner's claim: that lapse
// is known, or is at least a lease away (a claim made later ends later),
// so nothing lapses unseen.
func (r *Runner) watch(ctx context.Context) {
	for {
		wait := r.cfg.Lease
		owners, _ := r.owners(0)
		next, err := r.st.DeliveryNextLapse(ctx, r.Name(), owners)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.logger.WarnContext(ctx, r.Name()+": watch the claims of other processes", "err", err)
		case next == nil:
		case !next.After(r.now()):
			r.logger.InfoContext(ctx, r.Name()+": a claim lapsed, its deliveries are taken again", "lease_until", *next)
			if err := r.wake(ctx); err != nil {
				r.logger.WarnContext(ctx, r.Name()+": start a job for a lapsed claim", "err", err)
			}
			// The job takes them meanwhile.
			wait = r.cfg.Lease / 4
		default:
			wait = min(wait, next.Sub(r.now())+10*time.Millisecond)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(max(wait, 10*time.Millisecond)):
		}
	}
}

// wake inserts a job that sends what is due, lapsed claims included: one
// per second at most, whichever process inserts it.
func (r *Runner) wake(ctx context.Context) error {
	return r.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return r.queue.InsertTx(ctx, tx, r.args(0, false), &river.InsertOpts{
			Queue:      r.Name(),
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Second},
		})
	})
}

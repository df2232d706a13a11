package email

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
// a lease; the watcher of every process with a mail server then starts a
// job, which takes its deliveries again (with their Message-IDs).

// leases are the claims this process holds.
type leases struct {
	held     map[string]claim
	renewing bool // a renewal loop runs
}

// hold records a claim as held, and starts renewing.
func (m *Mailer) hold(c claim) {
	m.leaseMu.Lock()
	defer m.leaseMu.Unlock()
	m.leases.held[c.owner] = c
	if !m.leases.renewing {
		m.leases.renewing = true
		go m.renewLoop()
	}
}

// drop forgets a claim: recorded, or empty.
func (m *Mailer) drop(owner string) {
	m.leaseMu.Lock()
	defer m.leaseMu.Unlock()
	delete(m.leases.held, owner)
}

// owners are the claims held now whose lease is known to end before
// until (Unix nanoseconds; 0: all of them).
func (m *Mailer) owners(until int64) ([]string, []claim) {
	m.leaseMu.Lock()
	defer m.leaseMu.Unlock()
	owners := make([]string, 0, len(m.leases.held))
	claims := make([]claim, 0, len(m.leases.held))
	for o, c := range m.leases.held {
		if until == 0 || c.held.Load() < until {
			owners = append(owners, o)
			claims = append(claims, c)
		}
	}
	return owners, claims
}

// renewLoop renews the held claims every quarter of the lease, and ends
// when none is held.
func (m *Mailer) renewLoop() {
	every := m.cfg.Lease / 4
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		m.leaseMu.Lock()
		if len(m.leases.held) == 0 {
			m.leases.renewing = false
			m.leaseMu.Unlock()
			return
		}
		m.leaseMu.Unlock()
		m.renew(every)
	}
}

// renew extends every held claim older than an eighth of the lease by a
// lease from now, in one statement.
func (m *Mailer) renew(within time.Duration) {
	start := time.Now()
	owners, claims := m.owners(start.Add(m.cfg.Lease - m.cfg.Lease/8).UnixNano())
	if len(owners) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if _, err := m.st.DeliveryRenew(ctx, &store.DeliveryRenewParams{Owners: owners, LeaseUntil: m.now().Add(m.cfg.Lease)}); err != nil {
		m.logger.WarnContext(ctx, "email: renew the claims being sent, will try again", "claims", len(owners), "err", err)
		return
	}
	// A renewal that ends after a claim's lease may have lapsed proves
	// nothing of it: another process may have taken its deliveries just
	// before. That claim is left to run out.
	done, until := time.Now().UnixNano(), start.Add(m.cfg.Lease).UnixNano()
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
func (m *Mailer) countRescued(ctx context.Context, batch []store.ClaimedDelivery) {
	n := 0
	for _, d := range batch {
		if d.Rescued {
			n++
		}
	}
	if n > 0 {
		m.rescued.Add(int64(n))
		m.logger.InfoContext(ctx, "email: took again deliveries whose claim lapsed (a process died while sending)", "count", n)
	}
}

// Rescued is how many deliveries this process took from claims that had
// lapsed since it started.
func (m *Mailer) Rescued() int64 { return m.rescued.Load() }

// Watch starts, in a process with a mail server, the watcher of other
// processes' claims: when one lapses, a job takes its deliveries again at
// once, instead of at the next sweep. Close stops it.
func (m *Mailer) Watch(ctx context.Context) {
	if m.sender == nil {
		return
	}
	m.leaseMu.Lock()
	defer m.leaseMu.Unlock()
	if m.watchStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	m.watchStop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		m.watch(ctx)
	}()
}

// watch sleeps until the next lapse of another owner's claim: that lapse
// is known, or is at least a lease away (a claim made later ends later),
// so nothing lapses unseen.
func (m *Mailer) watch(ctx context.Context) {
	for {
		wait := m.cfg.Lease
		owners, _ := m.owners(0)
		next, err := m.st.DeliveryNextLapse(ctx, owners)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			m.logger.WarnContext(ctx, "email: watch the claims of other processes", "err", err)
		case next == nil:
		case !next.After(m.now()):
			m.logger.InfoContext(ctx, "email: a claim lapsed, its deliveries are taken again", "lease_until", *next)
			if err := m.wake(ctx); err != nil {
				m.logger.WarnContext(ctx, "email: start a job for a lapsed claim", "err", err)
			}
			// The job takes them meanwhile.
			wait = m.cfg.Lease / 4
		default:
			wait = min(wait, next.Sub(m.now())+10*time.Millisecond)
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
func (m *Mailer) wake(ctx context.Context) error {
	return m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return m.queue.InsertTx(ctx, tx, SendArgs{}, &river.InsertOpts{
			Queue:      Queue,
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Second},
		})
	})
}

package outbound

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/store"
)

// Config tunes the Runner of one channel.
type Config struct {
	// MaxAttempts, RetryBase and RetryWindow make the Backoff (defaults
	// 12, 30s, 24h).
	MaxAttempts int
	RetryBase   time.Duration
	RetryWindow time.Duration
	// BatchSize is how many deliveries one claim takes (default 500).
	BatchSize int
	// Lease is how long a claim holds its deliveries before another
	// process may take them (default 10s); see lease.go.
	Lease time.Duration
	// Slice is how long one job sends before it hands over to a new job
	// (default 10s).
	Slice time.Duration
	// SweepInterval is how often the leader looks for deliveries no job
	// is on its way for (default 30s).
	SweepInterval time.Duration
	// Workers is how many jobs of the channel one ready process runs at
	// once (default 2).
	Workers int
	// SendTimeout is the longest one batch may take to send (default 5
	// minutes): with the slice and the lease, it makes the job timeout.
	SendTimeout time.Duration
	// MessageIDDomain, when set, gives each delivery claimed without one
	// a Message-ID RANDOM.ID@MessageIDDomain, kept across attempts
	// (e-mail).
	MessageIDDomain string
}

// Runner sends the deliveries of one channel: River jobs claim them in
// batches under a lease, hand each batch to the channel, and record the
// outcomes.
type Runner struct {
	ch      Channel
	st      store.Store
	queue   jobs.Queue
	cfg     Config
	logger  *slog.Logger
	now     func() time.Time
	jitter  func() float64
	backoff Backoff

	leaseMu   sync.Mutex
	leases    leases       // the claims held (lease.go)
	watchStop func()       // stops the watcher, once started
	rescued   atomic.Int64 // deliveries taken from lapsed claims
}

// NewRunner returns the runner of ch; most callers use Registry.Add.
func NewRunner(st store.Store, ch Channel, cfg Config, logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 500)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 12)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, 30*time.Second)
	cfg.RetryWindow = cmp.Or(cfg.RetryWindow, 24*time.Hour)
	cfg.Lease = cmp.Or(cfg.Lease, 10*time.Second)
	cfg.Slice = cmp.Or(cfg.Slice, 10*time.Second)
	cfg.SweepInterval = cmp.Or(cfg.SweepInterval, 30*time.Second)
	cfg.Workers = cmp.Or(cfg.Workers, 2)
	cfg.SendTimeout = cmp.Or(cfg.SendTimeout, 5*time.Minute)
	return &Runner{
		ch: ch, st: st, cfg: cfg, logger: logger.With("channel", ch.Name()), now: time.Now, jitter: mathrand.Float64,
		backoff: NewBackoff(cfg.RetryBase, cfg.RetryWindow, cfg.MaxAttempts),
		leases:  leases{held: map[string]claim{}},
	}
}

// Channel is the runner's channel.
func (r *Runner) Channel() Channel { return r.ch }

// Name is the channel's name.
func (r *Runner) Name() string { return r.ch.Name() }

// SetQueue gives the runner the queue its jobs go to.
func (r *Runner) SetQueue(q jobs.Queue) { r.queue = q }

// SetClock replaces time.Now for the times recorded (tests).
func (r *Runner) SetClock(now func() time.Time) { r.now = now }

// Backoff is the retry schedule in use.
func (r *Runner) Backoff() Backoff { return r.backoff }

// Rescued is how many deliveries this process took from claims that had
// lapsed since it started.
func (r *Runner) Rescued() int64 { return r.rescued.Load() }

// claim is a batch of deliveries claimed together.
type claim struct {
	owner string
	batch []store.ClaimedDelivery
	// held is until when (Unix nanoseconds, on the service's clock, the
	// one the lease is written in and other claims compare with) the
	// lease is known to hold: the claim's time plus the lease, moved on
	// by every renewal.
	held *atomic.Int64
	// took is how long the claim statement took, for the logs.
	took time.Duration
}

// mayStart says whether a delivery of the claim may still be sent at
// now: not once less than half the lease is known to be left (its
// renewals have failed, or the process stalled between reading the time
// and claiming), so that no other worker takes a delivery while it is
// sent.
func (c claim) mayStart(now time.Time, lease time.Duration) bool {
	return now.Add(lease/2).UnixNano() < c.held.Load()
}

// release gives a claim's deliveries back untried.
func (c claim) release() []store.DeliveryOutcome {
	out := make([]store.DeliveryOutcome, len(c.batch))
	for i, d := range c.batch {
		out[i] = store.DeliveryOutcome{ID: d.ID, Release: true}
	}
	return out
}

type outcomes struct {
	c    claim
	list []store.DeliveryOutcome
	gone []store.ClaimedDelivery
	sent time.Duration // how long the channel took to send the batch
}

// run is one job: a pipeline that claims due deliveries in batches (the
// next batch while one is being sent), has the channel send each batch,
// and records its outcomes while the next one is sent. It stops when
// nothing is due, when the service cannot be reached (the retries are
// scheduled), or when its slice of time is over (a new job carries on).
func (r *Runner) run(ctx context.Context) error {
	if !r.ch.Ready() {
		if w, ok := r.ch.(NotReadyWarner); ok {
			w.WarnNotReady(ctx)
		}
		return nil
	}
	job := r.ch.Begin(ctx)
	defer job.End()
	var (
		end      = time.Now().Add(r.cfg.Slice)
		more     atomic.Bool // work is left: a new job must carry on
		stop     atomic.Bool // claim no more
		claims   = make(chan claim, 1)
		claimErr = make(chan error, 1)
		records  = make(chan outcomes, 1)
		recErr   = make(chan error, 1)
		stopped  = make(chan struct{})
		stopOnce sync.Once
	)
	halt := func() { stopOnce.Do(func() { stop.Store(true); close(stopped) }) }
	defer halt()

	go func() {
		defer close(claims)
		for !stop.Load() {
			if ctx.Err() != nil || time.Now().After(end) {
				more.Store(true)
				return
			}
			c, err := r.claim(ctx)
			if err != nil {
				claimErr <- err
				return
			}
			if len(c.batch) == 0 {
				return
			}
			select {
			case claims <- c:
			case <-stopped:
				records <- outcomes{c: c, list: c.release()}
				return
			}
		}
	}()
	go func() {
		var errs []error
		for o := range records {
			errs = append(errs, r.record(ctx, o))
			r.drop(o.c.owner)
		}
		recErr <- errors.Join(errs...)
	}()

	var (
		runErr error
		down   *Outcome // the service could not be reached
	)
	for c := range claims {
		switch {
		case down != nil:
			// Claimed ahead while the service was found down: it would be
			// down for these too; they retry with the others.
			results := make([]Outcome, len(c.batch))
			for i := range results {
				results[i] = *down
			}
			records <- r.outcomes(c, results)
			continue
		case stop.Load():
			records <- outcomes{c: c, list: c.release()}
			continue
		}
		batch := &Batch{Deliveries: c.batch, mayStart: func() bool { return c.mayStart(r.now(), r.cfg.Lease) }}
		sendStart := time.Now()
		results, err := job.Send(ctx, batch)
		if err == nil && len(results) != len(c.batch) {
			err = fmt.Errorf("%d outcomes for %d deliveries", len(results), len(c.batch))
		}
		if err != nil {
			// The database failed while preparing the batch: give it back
			// untried.
			runErr = fmt.Errorf("%s: %w", r.Name(), err)
			records <- outcomes{c: c, list: c.release()}
			halt()
			continue
		}
		o := r.outcomes(c, results)
		o.sent = time.Since(sendStart)
		records <- o
		for _, o := range results {
			if o.Result == NotTried {
				// Given back (the claim's lease was in doubt, or the
				// job is stopping): a fresh claim takes them at once.
				more.Store(true)
			}
			if o.Down {
				down = &o
				halt()
				break
			}
		}
	}
	halt()
	// The claimer has returned (claims is closed): nothing sends on
	// records any more.
	close(records)
	select {
	case err := <-claimErr:
		runErr = errors.Join(runErr, fmt.Errorf("%s: claim: %w", r.Name(), err))
	default:
	}
	if err := errors.Join(runErr, <-recErr); err != nil {
		return err
	}
	return r.scheduleNext(ctx, more.Load())
}

// claim takes the next batch of due deliveries; the claim is held (and
// renewed) until its outcomes are recorded.
func (r *Runner) claim(ctx context.Context) (claim, error) {
	now, start := r.now(), time.Now()
	c := claim{owner: randomHex(8), held: new(atomic.Int64)}
	c.held.Store(now.Add(r.cfg.Lease).UnixNano()) // the lease written below
	r.hold(c)
	var err error
	c.batch, err = r.st.DeliveryClaim(ctx, &store.DeliveryClaimParams{
		Channel: r.Name(), Owner: c.owner, Now: now, LeaseUntil: now.Add(r.cfg.Lease), Limit: r.cfg.BatchSize,
		MessageIDDomain: r.cfg.MessageIDDomain,
	})
	if err != nil || len(c.batch) == 0 {
		r.drop(c.owner)
		return c, err
	}
	c.took = time.Since(start)
	r.countRescued(ctx, c.batch)
	return c, nil
}

// outcomes turns a batch's results into what is recorded: sent; retrying
// with a next attempt time, for a temporary failure with attempts left;
// failed otherwise; given back, when it was not tried.
func (r *Runner) outcomes(c claim, results []Outcome) outcomes {
	now := r.now()
	out := outcomes{c: c, list: make([]store.DeliveryOutcome, len(c.batch))}
	for i, d := range c.batch {
		res := results[i]
		o := store.DeliveryOutcome{ID: d.ID, Code: res.Code, Message: clip(res.Message, 1000)}
		switch {
		case res.Result == NotTried:
			o = store.DeliveryOutcome{ID: d.ID, Release: true}
		case res.Result == Sent:
			o.State = store.DeliverySent
		case res.Result == Temporary && d.Attempts < r.cfg.MaxAttempts:
			o.State = store.DeliveryRetrying
			next := now.Add(max(r.backoff.Wait(d.Attempts, r.jitter()), res.RetryAfter))
			o.NextAttemptAt = &next
		case res.Result == Temporary:
			o.State = store.DeliveryFailed
			o.Message = clip(fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, res.Message), 1000)
		case res.Result == Gone:
			o.State = store.DeliveryFailed
			o.Message = clip("target gone: "+res.Message, 1000)
			out.gone = append(out.gone, d)
		default:
			o.State = store.DeliveryFailed
		}
		out.list[i] = o
	}
	return out
}

// record writes a batch's outcomes. The messages are out: losing their
// outcomes would send them again once the lease lapses, so a failing
// database is tried a few times, whatever happens to the job's context.
func (r *Runner) record(ctx context.Context, o outcomes) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(r.cfg.Lease/2, 30*time.Second))
	defer cancel()
	var err error
	wait := 100 * time.Millisecond
	for try := 0; try < 6; try++ {
		var n int
		start := time.Now()
		n, err = r.st.DeliveryRecord(ctx, &store.DeliveryRecordParams{Owner: o.c.owner, At: r.now(), Outcomes: o.list})
		if err == nil {
			r.logBatch(ctx, o, n, time.Since(start))
			if g, ok := r.ch.(GoneHandler); ok && len(o.gone) > 0 {
				if err := g.TargetsGone(ctx, o.gone); err != nil {
					r.logger.WarnContext(ctx, r.Name()+": forget the targets that are gone", "count", len(o.gone), "err", err)
				}
			}
			return nil
		}
		r.logger.WarnContext(ctx, r.Name()+": record outcomes, will try again", "count", len(o.list), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: record: %w", r.Name(), err)
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("%s: record: %w", r.Name(), err)
}

// logBatch logs a recorded batch: its outcomes, and how long its claim,
// its sending and its record took.
func (r *Runner) logBatch(ctx context.Context, o outcomes, recorded int, recordTook time.Duration) {
	outcomes := o.list
	counts := map[store.DeliveryState]int{}
	var lastErr string
	released := 0
	for _, o := range outcomes {
		if o.Release {
			released++
			continue
		}
		counts[o.State]++
		if o.State != store.DeliverySent {
			lastErr = fmt.Sprintf("%d %s", o.Code, o.Message)
		}
	}
	attrs := []any{"sent", counts[store.DeliverySent], "retrying", counts[store.DeliveryRetrying],
		"failed", counts[store.DeliveryFailed], "released", released,
		"claim_ms", o.c.took.Milliseconds(), "send_ms", o.sent.Milliseconds(), "record_ms", recordTook.Milliseconds()}
	if recorded != len(outcomes) {
		attrs = append(attrs, "lost_claims", len(outcomes)-recorded)
	}
	if lastErr != "" {
		r.logger.WarnContext(ctx, r.Name()+": batch sent", append(attrs, "last_error", lastErr)...)
		return
	}
	r.logger.InfoContext(ctx, r.Name()+": batch sent", attrs...)
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

package email

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"
	"github.com/wneessen/go-mail"

	"github.com/cloche/cloche/internal/store"
)

// eventContent is what the e-mails of one event share.
type eventContent struct {
	content     Content
	attachments []store.Attachment
	err         error    // the event cannot be sent (errEventGone)
	msg         *Message // a digest's message, rendered when it was queued
}

type renderKey struct {
	event int64
	key   string
}

// claim is a batch of deliveries claimed together.
type claim struct {
	owner string
	batch []store.ClaimedDelivery
	// held is until when (Unix nanoseconds, this machine's clock) the
	// lease is known to hold: the claim's time plus the lease, moved on
	// by every renewal.
	held *atomic.Int64
}

// mayStart says whether a message of the claim may still be sent: not
// once less than half the lease is known to be left (its renewals have
// failed), so that no other worker takes a delivery while it is sent.
func (c claim) mayStart(lease time.Duration) bool {
	return time.Now().Add(lease/2).UnixNano() < c.held.Load()
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
	owner string
	list  []store.DeliveryOutcome
}

// run is one job: a pipeline that claims due deliveries in batches (the
// next batch while one is being sent), renders and sends each batch over
// the pool of connections, and records its outcomes while the next one is
// sent. It stops when nothing is due, when the server cannot be reached
// (the retries are scheduled), or when its slice of time is over (a new
// job carries on).
func (m *Mailer) run(ctx context.Context) error {
	if m.sender == nil {
		m.WarnUnconfigured(ctx)
		return nil
	}
	m.sender.begin()
	defer m.sender.end()
	var (
		end      = time.Now().Add(m.cfg.Slice)
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
			c, err := m.claim(ctx)
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
				records <- outcomes{c.owner, c.release()}
				return
			}
		}
	}()
	go func() {
		var errs []error
		for r := range records {
			errs = append(errs, m.record(ctx, r.owner, r.list))
			m.drop(r.owner)
		}
		recErr <- errors.Join(errs...)
	}()

	b := &builder{m: m, events: map[int64]*eventContent{}, rendered: map[renderKey]*Message{}}
	var (
		runErr error
		down   *result // the server could not be reached
	)
	for c := range claims {
		switch {
		case down != nil:
			// Claimed ahead while the server was found down: it would be
			// down for these too; they retry with the others.
			results := make([]result, len(c.batch))
			for i := range results {
				results[i] = *down
			}
			records <- outcomes{c.owner, m.outcomes(c.batch, results)}
			continue
		case stop.Load():
			records <- outcomes{c.owner, c.release()}
			continue
		}
		results, err := m.sendBatch(ctx, b, c)
		if err != nil {
			// The database failed while reading events: give the batch
			// back untried.
			runErr = fmt.Errorf("email: %w", err)
			records <- outcomes{c.owner, c.release()}
			halt()
			continue
		}
		records <- outcomes{c.owner, m.outcomes(c.batch, results)}
		for _, r := range results {
			if r.down {
				down = &r
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
		runErr = errors.Join(runErr, fmt.Errorf("email: claim: %w", err))
	default:
	}
	if err := errors.Join(runErr, <-recErr); err != nil {
		return err
	}
	return m.scheduleNext(ctx, more.Load())
}

// claim takes the next batch of due deliveries; the claim is held (and
// renewed) until its outcomes are recorded.
func (m *Mailer) claim(ctx context.Context) (claim, error) {
	c := claim{owner: randomHex(8), held: new(atomic.Int64)}
	c.held.Store(time.Now().Add(m.cfg.Lease).UnixNano())
	m.hold(c)
	now := m.now()
	var err error
	c.batch, err = m.st.DeliveryClaim(ctx, &store.DeliveryClaimParams{
		Owner: c.owner, Now: now, LeaseUntil: now.Add(m.cfg.Lease), Limit: m.cfg.BatchSize, MessageIDDomain: m.domain,
	})
	if err != nil || len(c.batch) == 0 {
		m.drop(c.owner)
		return c, err
	}
	m.countRescued(ctx, c.batch)
	return c, nil
}

// builder renders the messages of a job's batches; an event is read and
// a rendering made once per job.
type builder struct {
	m        *Mailer
	events   map[int64]*eventContent
	rendered map[renderKey]*Message
}

// sendBatch renders a claim's messages, then builds and sends them over
// the pool. A delivery that cannot have a message (its address is
// invalid, its event is gone, a template fails) gets a failed result.
func (m *Mailer) sendBatch(ctx context.Context, b *builder, c claim) ([]result, error) {
	type prepared struct {
		msg *Message
		ev  *eventContent
	}
	preps := make([]prepared, len(c.batch))
	failed := make([]*result, len(c.batch))
	for i := range c.batch {
		d := &c.batch[i]
		ev, ok := b.events[d.EventID]
		if !ok {
			var err error
			if id := d.DigestID(); id != 0 {
				ev, err = m.loadDigest(ctx, id)
			} else {
				ev, err = m.loadEvent(ctx, d.EventID)
			}
			if err != nil {
				return nil, err
			}
			b.events[d.EventID] = ev
		}
		if ev.err != nil {
			failed[i] = &result{message: ev.err.Error()}
			continue
		}
		if ev.msg != nil {
			preps[i] = prepared{msg: ev.msg, ev: ev}
			continue
		}
		rc := Recipient{Name: d.Name, Address: d.Address, Locale: d.Locale, Reason: d.Reason}
		key := renderKey{event: d.EventID, key: m.tmpl.CacheKey(&ev.content, rc)}
		msg, ok := b.rendered[key]
		if !ok {
			var err error
			if msg, err = m.tmpl.Render(&ev.content, rc); err != nil {
				// A template that fails is the configuration's fault:
				// retry, so that the operator can fix it meanwhile.
				failed[i] = &result{temp: true, message: err.Error()}
				continue
			}
			b.rendered[key] = msg
		}
		preps[i] = prepared{msg: msg, ev: ev}
	}
	mayStart := func() bool { return c.mayStart(m.cfg.Lease) }
	results := m.sender.sendAll(ctx, len(c.batch), mayStart, func(i int) (*mail.Msg, *result) {
		if failed[i] != nil {
			return nil, failed[i]
		}
		x, err := m.message(&c.batch[i], preps[i].msg, preps[i].ev)
		if err != nil {
			return nil, &result{message: err.Error()}
		}
		return x, nil
	})
	return results, nil
}

// loadEvent reads what the e-mails of an event need.
func (m *Mailer) loadEvent(ctx context.Context, id int64) (*eventContent, error) {
	ev, err := m.st.EventGet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return &eventContent{err: errEventGone}, nil
	} else if err != nil {
		return nil, fmt.Errorf("event %d: %w", id, err)
	}
	status := store.StatusNeutral
	if t, err := m.st.TypeGet(ctx, ev.Key); err == nil {
		status = t.StatusType
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("event %d: type %s: %w", id, ev.Key, err)
	}
	atts, err := m.st.AttachmentList(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("event %d: attachments: %w", id, err)
	}
	return &eventContent{
		content: Content{EventID: ev.ID, Key: ev.Key, Title: ev.Title, Body: ev.Body, StatusType: status,
			ContextType: ev.ContextType, ContextID: ev.ContextID, URL: ev.URL, Actions: ev.Actions},
		attachments: atts,
	}, nil
}

// outcomes turns send results into what is recorded: sent; retrying with
// a next attempt time, for a temporary failure with attempts left; failed
// otherwise; given back, when it was not tried.
func (m *Mailer) outcomes(claimed []store.ClaimedDelivery, results []result) []store.DeliveryOutcome {
	now := m.now()
	out := make([]store.DeliveryOutcome, len(claimed))
	for i, c := range claimed {
		r := results[i]
		o := store.DeliveryOutcome{ID: c.ID, Code: r.code, Message: clip(r.message, 1000)}
		switch {
		case r.notTried:
			o = store.DeliveryOutcome{ID: c.ID, Release: true}
		case r.sent:
			o.State = store.DeliverySent
		case r.temp && c.Attempts < m.cfg.MaxAttempts:
			o.State = store.DeliveryRetrying
			next := now.Add(m.backoff.Wait(c.Attempts, m.jitter()))
			o.NextAttemptAt = &next
		case r.temp:
			o.State = store.DeliveryFailed
			o.Message = clip(fmt.Sprintf("gave up after %d attempts: %s", c.Attempts, r.message), 1000)
		default:
			o.State = store.DeliveryFailed
		}
		out[i] = o
	}
	return out
}

// record writes a batch's outcomes. The messages are out: losing their
// outcomes would send them again once the lease lapses, so a failing
// database is tried a few times, whatever happens to the job's context.
func (m *Mailer) record(ctx context.Context, owner string, outcomes []store.DeliveryOutcome) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), max(m.cfg.Lease/2, 30*time.Second))
	defer cancel()
	var err error
	wait := 100 * time.Millisecond
	for try := 0; try < 6; try++ {
		var n int
		n, err = m.st.DeliveryRecord(ctx, &store.DeliveryRecordParams{Owner: owner, At: m.now(), Outcomes: outcomes})
		if err == nil {
			m.logBatch(ctx, outcomes, n)
			return nil
		}
		m.logger.WarnContext(ctx, "email: record outcomes, will try again", "count", len(outcomes), "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("email: record: %w", err)
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("email: record: %w", err)
}

func (m *Mailer) logBatch(ctx context.Context, outcomes []store.DeliveryOutcome, recorded int) {
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
		"failed", counts[store.DeliveryFailed], "released", released}
	if recorded != len(outcomes) {
		attrs = append(attrs, "lost_claims", len(outcomes)-recorded)
	}
	if lastErr != "" {
		m.logger.WarnContext(ctx, "email: batch sent", append(attrs, "last_error", lastErr)...)
		return
	}
	m.logger.InfoContext(ctx, "email: batch sent", attrs...)
}

// scheduleNext inserts the jobs that carry on: one now when this one's
// slice ended with work left, and one when the earliest retry falls due
// (one such job per second at most).
func (m *Mailer) scheduleNext(ctx context.Context, more bool) error {
	ctx = context.WithoutCancel(ctx)
	err := m.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if more {
			if err := m.queue.InsertTx(ctx, tx, SendArgs{}, nil); err != nil {
				return err
			}
		}
		next, err := tx.DeliveryNextDue(ctx)
		if err != nil || next == nil {
			return err
		}
		at := next.Truncate(time.Second)
		if at.Before(*next) {
			at = at.Add(time.Second)
		}
		return m.queue.InsertTx(ctx, tx, SendArgs{}, &river.InsertOpts{
			Queue:       Queue,
			ScheduledAt: at,
			UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: time.Second},
		})
	})
	if err != nil {
		return fmt.Errorf("email: schedule: %w", err)
	}
	return nil
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

package email

import (
	"context"
	"errors"
	"fmt"
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
	err         error // the event cannot be sent (errEventGone)
}

type renderKey struct {
	event int64
	key   string
}

// run is one job: it claims due deliveries in batches, sends each batch
// while the previous one's outcomes are being recorded, and stops when
// nothing is due, when the server cannot be reached (the retries are
// scheduled), or when its slice of time is over (a new job carries on).
func (m *Mailer) run(ctx context.Context) error {
	if m.sender == nil {
		m.WarnUnconfigured(ctx)
		return nil
	}
	m.sender.begin()
	defer m.sender.end()
	var (
		end      = time.Now().Add(m.cfg.Slice)
		events   = map[int64]*eventContent{}
		rendered = map[renderKey]*Message{}
		recorded = make(chan error, 1)
		inFlight bool
		more     bool
	)
	waitRecord := func() error {
		if !inFlight {
			return nil
		}
		inFlight = false
		return <-recorded
	}
	for {
		if ctx.Err() != nil || time.Now().After(end) {
			more = true
			break
		}
		owner := randomHex(8)
		now := m.now()
		// Nothing is sent once less than the time a slow send may take is
		// left of the lease, so that no other worker takes a delivery
		// while it is being sent.
		sendBy := time.Now().Add(m.cfg.Lease - 7*m.cfg.SMTP.Timeout)
		claimed, err := m.st.DeliveryClaim(ctx, &store.DeliveryClaimParams{
			Owner: owner, Now: now, LeaseUntil: now.Add(m.cfg.Lease), Limit: m.cfg.BatchSize, MessageIDDomain: m.domain,
		})
		if err != nil {
			return errors.Join(fmt.Errorf("email: claim: %w", err), waitRecord())
		}
		if len(claimed) == 0 {
			break
		}
		msgs, failed, err := m.build(ctx, claimed, events, rendered)
		if err != nil {
			// The database failed while reading events: give the batch
			// back untried.
			release := make([]store.DeliveryOutcome, len(claimed))
			for i, c := range claimed {
				release[i] = store.DeliveryOutcome{ID: c.ID, Release: true}
			}
			return errors.Join(fmt.Errorf("email: %w", err), waitRecord(), m.record(ctx, owner, release))
		}
		results, down := m.sender.sendAll(ctx, msgs, failed, sendBy)
		outcomes := m.outcomes(claimed, results)
		if err := waitRecord(); err != nil {
			return err
		}
		inFlight = true
		go func() { recorded <- m.record(ctx, owner, outcomes) }()
		if down {
			break
		}
	}
	if err := waitRecord(); err != nil {
		return err
	}
	return m.scheduleNext(ctx, more)
}

// build renders and builds the message of each claimed delivery. A
// delivery that cannot have one (its address is invalid, its event is
// gone, a template fails) gets a nil message and its result in failed.
func (m *Mailer) build(ctx context.Context, claimed []store.ClaimedDelivery, events map[int64]*eventContent,
	rendered map[renderKey]*Message) ([]*mail.Msg, []result, error) {
	msgs := make([]*mail.Msg, len(claimed))
	failed := make([]result, len(claimed))
	for i := range claimed {
		c := &claimed[i]
		ev, ok := events[c.EventID]
		if !ok {
			var err error
			if ev, err = m.loadEvent(ctx, c.EventID); err != nil {
				return nil, nil, err
			}
			events[c.EventID] = ev
		}
		if ev.err != nil {
			failed[i] = result{message: ev.err.Error()}
			continue
		}
		rc := Recipient{Name: c.Name, Address: c.Address, Locale: c.Locale, Reason: c.Reason}
		key := renderKey{event: c.EventID, key: m.tmpl.CacheKey(&ev.content, rc)}
		msg, ok := rendered[key]
		if !ok {
			var err error
			if msg, err = m.tmpl.Render(&ev.content, rc); err != nil {
				// A template that fails is the configuration's fault:
				// retry, so that the operator can fix it meanwhile.
				failed[i] = result{temp: true, message: err.Error()}
				continue
			}
			rendered[key] = msg
		}
		x, err := m.message(c, msg, ev)
		if err != nil {
			failed[i] = result{message: err.Error()}
			continue
		}
		msgs[i] = x
	}
	return msgs, failed, nil
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
			ContextType: ev.ContextType, ContextID: ev.ContextID},
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
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.Lease/2)
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

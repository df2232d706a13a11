package dispatch

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/hostsign"
	"github.com/cloche/cloche/internal/store"
)

// PublishArgs is the job that publishes a scheduled event when it falls due.
type PublishArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind implements river.JobArgs.
func (PublishArgs) Kind() string { return "cloche.publish_event" }

// PurgeArgs is the periodic job that deletes old read and expired
// notifications.
type PurgeArgs struct{}

// Kind implements river.JobArgs.
func (PurgeArgs) Kind() string { return "cloche.purge_notifications" }

// Register adds the dispatcher's workers to w.
func (d *Dispatcher) Register(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &publishWorker{d: d}); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	if err := river.AddWorkerSafely(w, &purgeWorker{d: d}); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	return nil
}

// PeriodicJobs are the jobs the leader runs on a schedule.
func (d *Dispatcher) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(d.cfg.PurgeInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "purge_notifications"}),
	}
}

type publishWorker struct {
	river.WorkerDefaults[PublishArgs]
	d *Dispatcher
}

// NextRetry backs off for check_url failures: by default about 5s, 10s, 20s… capped
// at 5 minutes, with jitter so that many events do not retry in step.
func (w *publishWorker) NextRetry(job *river.Job[PublishArgs]) time.Time {
	base := cmp.Or(w.d.cfg.CheckRetryBase, 5*time.Second) << min(job.Attempt-1, 6)
	base = min(base, 5*time.Minute)
	jitter := time.Duration(rand.Int64N(int64(base) / 5))
	return time.Now().Add(base + jitter)
}

func (w *publishWorker) Work(ctx context.Context, job *river.Job[PublishArgs]) error {
	return w.d.publishDue(ctx, job.Args.EventID, job.Attempt, job.MaxAttempts)
}

// Timeout is the lease the job holds on its event (rescue.go).
func (w *publishWorker) Timeout(*river.Job[PublishArgs]) time.Duration { return w.d.PublishLease() }

// publishDue publishes a scheduled event that has fallen due, unless it is
// no longer pending (cancelled, replaced, already published), another job
// holds it, it is past its until, or its check_url says it no longer
// applies. An event without check_url goes with the other due ones in a
// batch (publishbatch.go). Otherwise, or when the batch did not take it,
// the job claims the event (rescue.go) and, when it fails and will be
// retried, hands it back to that retry.
func (d *Dispatcher) publishDue(ctx context.Context, eventID int64, attempt, maxAttempts int) (err error) {
	first, err := d.store.EventGet(ctx, eventID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d.logger.WarnContext(ctx, "publish: event is gone", "event_id", eventID)
		return nil
	case err != nil:
		return err
	case first.Status != store.EventPending:
		return nil
	case first.CheckURL == "":
		ids, err := d.publishDueBatch(ctx)
		if err != nil {
			return err
		}
		if slices.Contains(ids, eventID) {
			return nil
		}
	}
	ok, err := d.claim(ctx, eventID)
	if err != nil || !ok {
		return err
	}
	defer func() {
		if err != nil {
			d.release(ctx, eventID)
		}
	}()
	ev, err := d.store.EventGet(ctx, eventID)
	if errors.Is(err, store.ErrNotFound) {
		d.logger.WarnContext(ctx, "publish: event is gone", "event_id", eventID)
		return nil
	} else if err != nil {
		return err
	}
	if ev.Status != store.EventPending {
		return nil
	}
	if d.expired(ev, d.now()) {
		return d.finish(ctx, ev, store.EventExpired, "fell due after its until")
	}
	if ev.CheckURL != "" {
		send, reason, err := d.check(ctx, ev)
		switch {
		case err != nil && attempt >= maxAttempts:
			return d.finish(ctx, ev, store.EventFailed, fmt.Sprintf("check_url failed %d times, last: %v", attempt, err))
		case err != nil:
			d.logger.WarnContext(ctx, "publish: check_url failed, will retry", "event_id", ev.ID, "attempt", attempt, "err", err)
			return err
		case !send:
			return d.finish(ctx, ev, store.EventDropped, reason)
		}
	}
	err = d.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		// Read again inside the transaction: it may have been cancelled
		// while check_url was asked.
		ev, err = tx.EventGet(ctx, eventID)
		if err != nil {
			return err
		}
		if ev.Status != store.EventPending {
			return errAlreadyDone
		}
		now := d.now()
		if d.expired(ev, now) {
			return tx.EventFinish(ctx, &store.EventFinishParams{ID: ev.ID, Status: store.EventExpired, Reason: "fell due after its until", At: now})
		}
		ch, err := chooseChannel(ctx, tx, ev.Key, ev.ForceChannel)
		if err != nil {
			return err
		}
		ev.Channel = ch
		_, err = d.publishTx(ctx, tx, ev, now, nil)
		return err
	})
	switch {
	case errors.Is(err, errAlreadyDone), errors.Is(err, store.ErrConflict):
		return nil
	case err != nil:
		return fmt.Errorf("publish event %d: %w", eventID, err)
	}
	if ev.Status == store.EventPublished {
		d.logPublished(ctx, ev)
		d.afterPublish(ctx, ev)
	}
	return nil
}

var errAlreadyDone = errors.New("event is no longer pending")

func (d *Dispatcher) expired(ev *store.Event, now time.Time) bool {
	return ev.Until != nil && !now.Before(*ev.Until)
}

func (d *Dispatcher) finish(ctx context.Context, ev *store.Event, status store.EventStatus, reason string) error {
	err := d.store.EventFinish(ctx, &store.EventFinishParams{ID: ev.ID, Status: status, Reason: reason, At: d.now()})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	if err == nil {
		d.logger.InfoContext(ctx, "event not published", "event_id", ev.ID, "status", status, "reason", reason)
	}
	return err
}

// checkRequest is what a check_url receives.
type checkRequest struct {
	Event *store.Event `json:"event"`
}

// check asks the host whether a due event still applies: a 2xx answer sends
// it unless its JSON body says {"send": false}; 404 and 410 drop it; any
// other answer or error is to be retried.
func (d *Dispatcher) check(ctx context.Context, ev *store.Event) (send bool, reason string, err error) {
	payload, err := json.Marshal(checkRequest{Event: ev})
	if err != nil {
		return false, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.CheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.CheckURL, bytes.NewReader(payload))
	if err != nil {
		return false, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cloche")
	if d.cfg.SigningKey != nil {
		key, err := d.cfg.SigningKey(ctx)
		if err != nil {
			return false, "", fmt.Errorf("check_url: signing key: %w", err)
		}
		hostsign.SignRequest(req, key, d.now(), payload)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return false, "", fmt.Errorf("check_url: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return false, fmt.Sprintf("check_url answered %d", resp.StatusCode), nil
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		var answer struct {
			Send *bool `json:"send"`
		}
		if json.Unmarshal(body, &answer) == nil && answer.Send != nil && !*answer.Send {
			return false, `check_url answered {"send": false}`, nil
		}
		return true, "", nil
	default:
		return false, "", fmt.Errorf("check_url answered %d", resp.StatusCode)
	}
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	d *Dispatcher
}

// Timeout bounds a purge: what is left waits for the next one.
func (w *purgeWorker) Timeout(*river.Job[PurgeArgs]) time.Duration { return PurgeTimeout }

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	n, err := w.d.Purge(ctx)
	if n > 0 {
		w.d.logger.InfoContext(ctx, "purged notifications", "count", n)
	}
	if err != nil {
		return err
	}
	n, err = w.d.PurgeIdempotency(ctx)
	if n > 0 {
		w.d.logger.InfoContext(ctx, "purged idempotency keys", "count", n)
	}
	return err
}

// Purge deletes notifications read longer ago than the retention, and those
// expired as long ago, in batches; then the entries of the change log (read
// by the live streams) as old. It returns how many notifications went.
func (d *Dispatcher) Purge(ctx context.Context) (int, error) {
	const batch = 10000
	cutoff := d.now().Add(-d.cfg.ReadRetention)
	total := 0
	for {
		n, err := d.store.NotificationPurge(ctx, &store.NotificationPurgeParams{ReadBefore: cutoff, ExpiredBefore: cutoff, Limit: batch})
		total += n
		if err != nil {
			return total, err
		}
		if n < batch {
			break
		}
	}
	for {
		n, err := d.store.ChangePurge(ctx, &store.ChangePurgeParams{Before: cutoff, Limit: batch})
		if err != nil || n < batch {
			return total, err
		}
	}
}

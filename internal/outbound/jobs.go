package outbound

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cloche/cloche/internal/store"
)

// SendArgs is the job that sends the due deliveries of one channel. Any
// such job sends every due delivery of its channel, not only its event's:
// EventID is for the logs; Sweep marks the periodic job. Its kind is
// "cloche.CHANNEL_send" and its queue the channel's name; only processes
// whose channel is Ready work that queue.
type SendArgs struct {
	channel string // not encoded: the job's kind says it
	EventID int64  `json:"event_id,omitempty"`
	Sweep   bool   `json:"sweep,omitempty"`
}

// Kind implements river.JobArgs.
func (a SendArgs) Kind() string { return "cloche." + a.channel + "_send" }

// InsertOpts puts every job of a channel in its queue.
func (a SendArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: a.channel} }

func (r *Runner) args(eventID int64, sweep bool) SendArgs {
	return SendArgs{channel: r.Name(), EventID: eventID, Sweep: sweep}
}

// Queue is the River queue of the channel's jobs.
func (r *Runner) Queue() string { return r.Name() }

// Workers is how many jobs of the channel this process runs at once: none
// when the channel is not Ready here, so that its jobs wait for a process
// where it is.
func (r *Runner) Workers() int {
	if !r.ch.Ready() {
		return 0
	}
	return r.cfg.Workers
}

// JobTimeout is the longest a job may run: its slice, the last batch and
// its recording. River takes a job running longer than the longest
// timeout of any kind for dead.
func (r *Runner) JobTimeout() time.Duration {
	return r.cfg.Slice + max(r.cfg.Lease, r.cfg.SendTimeout)
}

// Register adds the runner's worker to w.
func (r *Runner) Register(w *river.Workers) (err error) {
	defer func() {
		// AddWorkerArgs panics on a kind registered twice.
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %v", r.Name(), p)
		}
	}()
	river.AddWorkerArgs(w, r.args(0, false), &sendWorker{r: r})
	return nil
}

// PeriodicJobs are the jobs the leader runs on a schedule: a sweep for
// deliveries no job is on its way for (lapsed claims, deliveries queued
// while no process could send them).
func (r *Runner) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(r.cfg.SweepInterval),
			func() (river.JobArgs, *river.InsertOpts) {
				// One sweep waiting at most: they must not pile up while
				// no process works the queue.
				return r.args(0, true), &river.InsertOpts{Queue: r.Name(), UniqueOpts: river.UniqueOpts{
					ByArgs:  true,
					ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled},
				}}
			},
			&river.PeriodicJobOpts{RunOnStart: true, ID: r.Name() + "_sweep"}),
	}
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	r *Runner
}

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	return w.r.run(ctx)
}

// Timeout leaves a job its slice, the last batch and its recording.
func (w *sendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return w.r.JobTimeout() }

// EnqueueTx starts the sending of an event's deliveries of the channel
// once tx commits.
func (r *Runner) EnqueueTx(ctx context.Context, tx store.Tx, eventID int64) error {
	return r.queue.InsertTx(ctx, tx, r.args(eventID, false), nil)
}

// Kick starts a job that sends whatever is due now: a process that can
// send the channel does so when it starts.
func (r *Runner) Kick(ctx context.Context) error {
	if !r.ch.Ready() {
		return nil
	}
	return r.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		return r.queue.InsertTx(ctx, tx, r.args(0, false), nil)
	})
}

// scheduleNext inserts the jobs that carry on: one now when this one's
// slice ended with work left, and one when the earliest retry or hold
// falls due (one such job per second at most).
func (r *Runner) scheduleNext(ctx context.Context, more bool) error {
	ctx = context.WithoutCancel(ctx)
	err := r.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if more {
			if err := r.queue.InsertTx(ctx, tx, r.args(0, false), nil); err != nil {
				return err
			}
		}
		next, err := tx.DeliveryNextDue(ctx, r.Name())
		if err != nil || next == nil {
			return err
		}
		at := next.Truncate(time.Second)
		if at.Before(*next) {
			at = at.Add(time.Second)
		}
		return r.queue.InsertTx(ctx, tx, r.args(0, false), &river.InsertOpts{
			Queue:       r.Name(),
			ScheduledAt: at,
			UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: time.Second},
		})
	})
	if err != nil {
		return fmt.Errorf("%s: schedule: %w", r.Name(), err)
	}
	return nil
}

// Close stops the watcher.
func (r *Runner) Close() {
	r.leaseMu.Lock()
	stop := r.watchStop
	r.watchStop = nil
	r.leaseMu.Unlock()
	if stop != nil {
		stop()
	}
}

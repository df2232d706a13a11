package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/store"
)

// Registry is the set of outbound channels of a process, one Runner each:
// what a Service builds at Open (e-mail, then push and webhooks), and
// what retries, lists and metrics go through.
type Registry struct {
	st      store.Store
	logger  *slog.Logger
	runners []*Runner
	byName  map[string]*Runner
}

// NewRegistry returns an empty registry.
func NewRegistry(st store.Store, logger *slog.Logger) *Registry {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{st: st, logger: logger, byName: map[string]*Runner{}}
}

var channelName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Add registers ch, sent as cfg says, and returns its runner. Register
// every channel before Register and SetQueue.
func (g *Registry) Add(ch Channel, cfg Config) (*Runner, error) {
	name := ch.Name()
	if !channelName.MatchString(name) {
		return nil, fmt.Errorf("outbound: channel name %q: want lower-case letters, digits and _", name)
	}
	if _, dup := g.byName[name]; dup {
		return nil, fmt.Errorf("outbound: channel %q registered twice", name)
	}
	r := NewRunner(g.st, ch, cfg, g.logger)
	g.runners = append(g.runners, r)
	g.byName[name] = r
	return r, nil
}

// Runner returns the runner of the channel named name, or nil.
func (g *Registry) Runner(name string) *Runner { return g.byName[name] }

// Channels names the registered channels, in the order they were added.
func (g *Registry) Channels() []string {
	out := make([]string, len(g.runners))
	for i, r := range g.runners {
		out[i] = r.Name()
	}
	return out
}

// Register adds every runner's worker to w.
func (g *Registry) Register(w *river.Workers) error {
	for _, r := range g.runners {
		if err := r.Register(w); err != nil {
			return err
		}
	}
	return nil
}

// PeriodicJobs are every runner's sweeps.
func (g *Registry) PeriodicJobs() []*river.PeriodicJob {
	var out []*river.PeriodicJob
	for _, r := range g.runners {
		out = append(out, r.PeriodicJobs()...)
	}
	return out
}

// Queues are the channels' queues, with how many jobs of each this
// process runs at once.
func (g *Registry) Queues() map[string]int {
	out := make(map[string]int, len(g.runners))
	for _, r := range g.runners {
		out[r.Queue()] = r.Workers()
	}
	return out
}

// JobTimeout is the longest timeout of the channels' jobs.
func (g *Registry) JobTimeout() time.Duration {
	var d time.Duration
	for _, r := range g.runners {
		d = max(d, r.JobTimeout())
	}
	return d
}

// SetQueue gives every runner the queue.
func (g *Registry) SetQueue(q jobs.Queue) {
	for _, r := range g.runners {
		r.SetQueue(q)
	}
}

// SetClock replaces time.Now in every runner (tests).
func (g *Registry) SetClock(now func() time.Time) {
	for _, r := range g.runners {
		r.SetClock(now)
	}
}

// Start starts the watchers of lapsed claims and a job per ready channel
// for what is due now.
func (g *Registry) Start(ctx context.Context) error {
	for _, r := range g.runners {
		r.Watch(ctx)
		if err := r.Kick(ctx); err != nil {
			return fmt.Errorf("start %s: %w", r.Name(), err)
		}
	}
	return nil
}

// Close stops the watchers.
func (g *Registry) Close() {
	for _, r := range g.runners {
		r.Close()
	}
}

// Rescued counts, per channel, the deliveries this process took from
// claims that lapsed.
func (g *Registry) Rescued() map[string]int64 {
	out := make(map[string]int64, len(g.runners))
	for _, r := range g.runners {
		out[r.Name()] = r.Rescued()
	}
	return out
}

// Retry queues a failed (or retrying) delivery again, with a fresh count
// of attempts, and starts its sending, whatever its channel.
func (g *Registry) Retry(ctx context.Context, id int64, at time.Time) (*store.Delivery, error) {
	var d *store.Delivery
	err := g.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: id, At: at}); err != nil {
			return err
		}
		var err error
		if d, err = tx.DeliveryGet(ctx, id); err != nil {
			return err
		}
		if r := g.byName[d.Channel]; r != nil {
			return r.EnqueueTx(ctx, tx, d.EventID)
		}
		return nil
	})
	return d, err
}

// RetryFailed queues every failed delivery again (of channel, when not
// empty; of eventID, when not zero) and returns how many.
func (g *Registry) RetryFailed(ctx context.Context, channel string, eventID int64, at time.Time) (int, error) {
	if channel != "" && g.byName[channel] == nil {
		return 0, store.Invalid("channel", "%q is not an outbound channel (%v)", channel, g.Channels())
	}
	var n int
	err := g.st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.DeliveryRetry(ctx, &store.DeliveryRetryParams{Channel: channel, EventID: eventID, At: at})
		if err != nil || n == 0 {
			return err
		}
		for _, r := range g.runners {
			if channel == "" || r.Name() == channel {
				if err := r.EnqueueTx(ctx, tx, eventID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, err
}

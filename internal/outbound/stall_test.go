package outbound_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/testdb"
)

// stalling is a channel whose first batch finds the service's clock
// moved on past its claim's lease before it starts (the process stalled
// between reading the time and claiming, or the clock moved): other
// claims may already be taking its deliveries. It sends what MayStart
// allows and counts the messages sent to each target.
type stalling struct {
	clock *atomic.Int64
	jump  time.Duration

	mu      sync.Mutex
	batches int
	sent    map[string]int
	refused int // deliveries its first batch might not start
}

func (c *stalling) Name() string                       { return "stalling" }
func (c *stalling) Ready() bool                        { return true }
func (c *stalling) Begin(context.Context) outbound.Job { return c }
func (c *stalling) End()                               {}

func (c *stalling) Send(_ context.Context, b *outbound.Batch) ([]outbound.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	if c.batches == 1 {
		c.clock.Add(int64(c.jump))
	}
	out := make([]outbound.Outcome, len(b.Deliveries))
	for i, d := range b.Deliveries {
		if !b.MayStart() {
			out[i] = outbound.Outcome{Result: outbound.NotTried}
			if c.batches == 1 {
				c.refused++
			}
			continue
		}
		c.sent[d.Target]++
		out[i] = outbound.Outcome{Result: outbound.Sent, Code: 201}
	}
	return out, nil
}

// A claim whose lease lapsed on the service's clock before its batch
// started sends nothing (another claim may have its deliveries by then):
// it gives them back, and a fresh claim sends each exactly once, at once.
func TestLapsedClaimSendsNothing(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openStore(t, b.URL(t))
			const lease = time.Hour
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			now := func() time.Time { return time.Unix(0, clock.Load()) }

			ch := &stalling{clock: &clock, jump: 2 * lease, sent: map[string]int{}}
			reg := outbound.NewRegistry(st, nil)
			if _, err := reg.Add(ch, outbound.Config{Lease: lease, SweepInterval: time.Hour}); err != nil {
				t.Fatal(err)
			}
			reg.SetClock(now)
			workers := river.NewWorkers()
			if err := reg.Register(workers); err != nil {
				t.Fatal(err)
			}
			q, err := jobs.New(st, workers, jobs.Config{Queues: reg.Queues(), PeriodicJobs: reg.PeriodicJobs(), PollInterval: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			reg.SetQueue(q)
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = q.Stop(ctx)
				reg.Close()
			})

			ev := &store.Event{Key: "message:internal", Title: "Hello", CreatedAt: now(), Status: store.EventPublished}
			if err := st.EventInsert(ctx, ev); err != nil {
				t.Fatal(err)
			}
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, CreatedAt: now(), Channel: "stalling",
					Recipients: []store.DeliveryRecipient{{Target: "a"}, {Target: "b"}}}); err != nil {
					return err
				}
				return reg.Runner("stalling").EnqueueTx(ctx, tx, ev.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for {
				ds, err := st.DeliveryList(ctx, &store.DeliveryListParams{Channel: "stalling"})
				if err != nil {
					t.Fatal(err)
				}
				// (Their attempts may count the lapsed claim: a claim that
				// takes them from it cannot know that it sent nothing.)
				if len(ds) == 2 && ds[0].State == store.DeliverySent && ds[1].State == store.DeliverySent {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("deliveries not sent within a minute: %+v", ds)
				}
				time.Sleep(20 * time.Millisecond)
			}
			ch.mu.Lock()
			defer ch.mu.Unlock()
			if ch.refused != 2 {
				t.Errorf("the first batch started %d of its 2 deliveries after its lease lapsed", 2-ch.refused)
			}
			if ch.sent["a"] != 1 || ch.sent["b"] != 1 {
				t.Errorf("messages sent %v, want one to each", ch.sent)
			}
		})
	}
}

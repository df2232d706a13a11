package outbound_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/cloche/cloche/internal/jobs"
	"github.com/cloche/cloche/internal/outbound"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// scripted is a channel whose outcome is its target's name: ok, busy
// (temporary, asks for an hour, then sent), bad (permanent), gone, down
// once (the service cannot be reached, then sent).
type scripted struct {
	mu    sync.Mutex
	tries map[string]int
	gone  []string
	jobs  atomic.Int32
}

func (c *scripted) Name() string                       { return "fake" }
func (c *scripted) Ready() bool                        { return true }
func (c *scripted) Begin(context.Context) outbound.Job { c.jobs.Add(1); return c }
func (c *scripted) End()                               {}

func (c *scripted) Send(_ context.Context, b *outbound.Batch) ([]outbound.Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]outbound.Outcome, len(b.Deliveries))
	for i, d := range b.Deliveries {
		c.tries[d.Target]++
		switch {
		case !b.MayStart():
			out[i] = outbound.Outcome{Result: outbound.NotTried}
		case d.Target == "busy" && c.tries[d.Target] == 1:
			out[i] = outbound.Outcome{Result: outbound.Temporary, Code: 429, Message: "slow down", RetryAfter: time.Hour}
		case d.Target == "bad":
			out[i] = outbound.Outcome{Result: outbound.Permanent, Code: 400, Message: "bad request"}
		case d.Target == "gone":
			out[i] = outbound.Outcome{Result: outbound.Gone, Code: 410, Message: "unsubscribed"}
		default:
			out[i] = outbound.Outcome{Result: outbound.Sent, Code: 201}
		}
	}
	return out, nil
}

func (c *scripted) TargetsGone(_ context.Context, ds []store.ClaimedDelivery) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range ds {
		c.gone = append(c.gone, d.Target)
	}
	return nil
}

func openStore(t *testing.T, url string) store.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st interface {
			store.Store
			Migrate(context.Context) error
		}
		err error
	)
	if sqlite.IsURL(url) {
		st, err = sqlite.Open(ctx, url, nil)
	} else {
		st, err = postgres.Open(ctx, url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// A channel registered with the layer has its deliveries claimed, sent
// and recorded: sent; retrying no sooner than the server asked, then sent;
// failed with the reason; gone, with the channel told. Retry queues a
// failed one again. Other channels' deliveries are left alone.
func TestChannelOutcomes(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openStore(t, b.URL(t))
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			now := func() time.Time { return time.Unix(0, clock.Load()) }

			ch := &scripted{tries: map[string]int{}}
			reg := outbound.NewRegistry(st, nil)
			if _, err := reg.Add(ch, outbound.Config{SweepInterval: time.Hour}); err != nil {
				t.Fatal(err)
			}
			if _, err := reg.Add(ch, outbound.Config{}); err == nil {
				t.Error("a channel registered twice: no error")
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
			if _, err := st.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, CreatedAt: now(),
				Recipients: []store.DeliveryRecipient{{Address: "ann@x.test"}}}); err != nil {
				t.Fatal(err)
			}
			err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, CreatedAt: now(), Channel: "fake",
					Recipients: []store.DeliveryRecipient{{Target: "ok"}, {Target: "busy"}, {Target: "bad"}, {Target: "gone"}}}); err != nil {
					return err
				}
				return reg.Runner("fake").EnqueueTx(ctx, tx, ev.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
			byTarget := func() map[string]store.Delivery {
				ds, err := st.DeliveryList(ctx, &store.DeliveryListParams{Channel: "fake"})
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]store.Delivery{}
				for _, d := range ds {
					out[d.Target] = d
				}
				return out
			}
			wait := func(what string, ok func(map[string]store.Delivery) bool) map[string]store.Delivery {
				t.Helper()
				deadline := time.Now().Add(time.Minute)
				for {
					ds := byTarget()
					if ok(ds) {
						return ds
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: deliveries %+v", what, ds)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			ds := wait("first round", func(ds map[string]store.Delivery) bool {
				return ds["ok"].State == store.DeliverySent && ds["busy"].State == store.DeliveryRetrying &&
					ds["bad"].State == store.DeliveryFailed && ds["gone"].State == store.DeliveryFailed
			})
			if busy := ds["busy"]; busy.NextAttemptAt == nil || busy.NextAttemptAt.Sub(*busy.LastAttemptAt) < time.Hour || busy.LastCode != 429 {
				t.Errorf("busy: next attempt %v after last %v (code %d), want an hour at least (Retry-After)", busy.NextAttemptAt, busy.LastAttemptAt, busy.LastCode)
			}
			if bad := ds["bad"]; bad.LastCode != 400 || bad.LastMessage != "bad request" || bad.Attempts != 1 {
				t.Errorf("bad: %+v, want failed once with its reason", bad)
			}
			if gone := ds["gone"]; gone.LastMessage != "target gone: unsubscribed" {
				t.Errorf("gone: %+v", gone)
			}
			// The channel is told once the outcomes are recorded: just
			// after what the wait above saw.
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
				ch.mu.Lock()
				gone := fmt.Sprint(ch.gone)
				ch.mu.Unlock()
				if gone == "[gone]" {
					break
				}
				if gone != "[]" || time.Now().After(deadline) {
					t.Fatalf("channel told of gone targets %v, want [gone]", gone)
				}
			}

			// Two hours on, the retry is due; a failed one is retried by hand.
			clock.Add(int64(2 * time.Hour))
			if _, err := reg.Retry(ctx, ds["bad"].ID, now()); err != nil {
				t.Fatal(err)
			}
			if err := reg.Runner("fake").Kick(ctx); err != nil {
				t.Fatal(err)
			}
			ds = wait("retries", func(ds map[string]store.Delivery) bool {
				return ds["busy"].State == store.DeliverySent && ds["bad"].State == store.DeliveryFailed && ds["bad"].Attempts == 1 &&
					ds["bad"].UpdatedAt.After(ds["ok"].UpdatedAt)
			})
			if ds["busy"].Attempts != 2 {
				t.Errorf("busy sent after %d attempts, want 2", ds["busy"].Attempts)
			}
			if _, err := reg.Retry(ctx, ds["ok"].ID, now()); err == nil {
				t.Error("retry of a sent delivery: no error")
			}
			// The e-mail (no e-mail channel here) was never claimed.
			mails, err := st.DeliveryList(ctx, &store.DeliveryListParams{Channel: store.OutboundEmail})
			if err != nil || len(mails) != 1 || mails[0].State != store.DeliveryQueued {
				t.Errorf("e-mails = %+v, %v; want one, queued", mails, err)
			}
			if n, err := reg.RetryFailed(ctx, "nope", 0, now()); err == nil {
				t.Errorf("RetryFailed of an unknown channel = %d, no error", n)
			}
		})
	}
}

package cloche_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkDueBurst makes 1,000 scheduled events (to a group of three)
// due at one instant, on a running service, and measures how late each is
// published (p50, p99) and how long the burst takes to drain; the baseline,
// in the same loop, is the same 1,000 notifies sent for now by 50 callers
// at once.
//
//	go test -run '^$' -bench DueBurst -benchtime 3x .
func BenchmarkDueBurst(b *testing.B) {
	ctx := context.Background()
	const n = 1000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			for _, id := range []cloche.ID{"1", "2", "3"} {
				if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: id, Groups: []string{"burst"}}); err != nil {
					b.Fatal(err)
				}
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Stop(ctx) })
			r := cloche.Recipients{GroupNames: []string{"burst"}}
			var (
				late            []time.Duration
				drain, baseline time.Duration
			)
			for b.Loop() {
				b.StopTimer()
				far := time.Now().Add(time.Hour)
				ids := notifyMany(b, n, func() (*cloche.Result, error) {
					return svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Burst", DueAt: &far}, r)
				})
				b.StartTimer()
				t0 := time.Now()
				testdb.MakeDue(b, url, ids...)
				for {
					pending, err := svc.Events(ctx, cloche.EventFilter{Status: cloche.EventPending, Limit: 1})
					if err != nil {
						b.Fatal(err)
					}
					if len(pending) == 0 {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				drain += time.Since(t0)
				b.StopTimer()
				for _, id := range ids {
					ev, err := svc.Event(ctx, id)
					if err != nil || ev.PublishedAt == nil || ev.DueAt == nil {
						b.Fatalf("event %d: %+v %v", id, ev, err)
					}
					late = append(late, ev.PublishedAt.Sub(*ev.DueAt))
				}
				t0 = time.Now()
				notifyMany(b, n, func() (*cloche.Result, error) {
					return svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Now"}, r)
				})
				baseline += time.Since(t0)
				b.StartTimer()
			}
			slices.Sort(late)
			b.ReportMetric(float64(late[len(late)/2].Milliseconds()), "p50-late-ms")
			b.ReportMetric(float64(late[len(late)*99/100].Milliseconds()), "p99-late-ms")
			b.ReportMetric(drain.Seconds()*1000/float64(b.N), "drain-ms")
			b.ReportMetric(baseline.Seconds()*1000/float64(b.N), "baseline-ms")
			b.ReportMetric(100*drain.Seconds()/baseline.Seconds(), "%-of-baseline")
		})
	}
}

// notifyMany calls notify n times from 50 goroutines and returns the event ids.
func notifyMany(b *testing.B, n int, notify func() (*cloche.Result, error)) []int64 {
	b.Helper()
	var (
		mu   sync.Mutex
		ids  []int64
		errs []error
		wg   sync.WaitGroup
		next = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range 50 {
		wg.Go(func() {
			for range next {
				res, err := notify()
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else {
					ids = append(ids, res.EventID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Fatal(fmt.Errorf("%d notifies failed, first: %w", len(errs), errs[0]))
	}
	return ids
}

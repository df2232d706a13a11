package cloche_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkDueBurst makes 1,000 scheduled events (one recipient each, as
// enDI's reminders) due at one instant two seconds ahead, on a running
// service, and measures how late each is published (p50, p99) and how
// long the burst takes to drain from its due time; the baseline, in the
// same loop, is the same 1,000 notifies sent for now by 50 callers at
// once.
//
//	go test -run '^$' -bench 'DueBurst$' -benchtime 3x .
func BenchmarkDueBurst(b *testing.B) {
	ctx := context.Background()
	const n = 1000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "1"}); err != nil {
				b.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Stop(ctx) })
			r := cloche.Recipients{UserIDs: []string{"1"}}
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
				at := testdb.MakeDueAt(b, url, time.Now().Add(2*time.Second), ids...)
				time.Sleep(time.Until(at))
				b.StartTimer()
				awaitNonePending(b, svc)
				drain += time.Since(at)
				b.StopTimer()
				late = append(late, testdb.Lateness(b, url, at)...)
				t0 := time.Now()
				notifyMany(b, n, func() (*cloche.Result, error) {
					return svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Now"}, r)
				})
				baseline += time.Since(t0)
				b.StartTimer()
			}
			reportLateness(b, late, n*b.N)
			b.ReportMetric(drain.Seconds()*1000/float64(b.N), "drain-ms")
			b.ReportMetric(baseline.Seconds()*1000/float64(b.N), "baseline-ms")
			b.ReportMetric(100*drain.Seconds()/baseline.Seconds(), "%-of-baseline")
		})
	}
}

// BenchmarkDueBurstLarge makes 100,000 scheduled events (one recipient
// each; CLOCHE_BENCH_BURST says another number) due at one instant two
// seconds ahead and measures how fast they are published: events/s from
// the due time to the last publication, and lateness. The baseline is the
// same run's raw insert rate: the one INSERT … SELECT that copied the
// events into the database.
//
//	go test -run '^$' -bench 'DueBurstLarge' -benchtime 1x -timeout 30m .
func BenchmarkDueBurstLarge(b *testing.B) {
	ctx := context.Background()
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("CLOCHE_BENCH_BURST")); err == nil && v > 0 {
		n = v
	}
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "1"}); err != nil {
				b.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Stop(ctx) })
			var (
				late           []time.Duration
				drain, rawCopy time.Duration
			)
			for b.Loop() {
				b.StopTimer()
				far := time.Now().Add(time.Hour)
				res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Burst", DueAt: &far},
					cloche.Recipients{UserIDs: []string{"1"}})
				if err != nil {
					b.Fatal(err)
				}
				rawCopy += testdb.CloneEvent(b, url, res.EventID, n-1)
				at := testdb.MakeAllDueAt(b, url, time.Now().Add(2*time.Second))
				time.Sleep(time.Until(at))
				b.StartTimer()
				awaitNonePending(b, svc)
				b.StopTimer()
				l := testdb.Lateness(b, url, at)
				if len(l) != n {
					b.Fatalf("%d events published, want %d", len(l), n)
				}
				drain += slices.Max(l)
				late = append(late, l...)
				b.StartTimer()
			}
			reportLateness(b, late, n*b.N)
			b.ReportMetric(float64(n*b.N)/drain.Seconds(), "events/s")
			b.ReportMetric(float64(n*b.N)/rawCopy.Seconds(), "baseline-raw-inserts/s")
			b.ReportMetric(drain.Seconds()*1000/float64(b.N), "drain-ms")
		})
	}
}

// awaitNonePending waits until no event is pending.
func awaitNonePending(b *testing.B, svc *cloche.Service) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		pending, err := svc.Events(context.Background(), cloche.EventFilter{Status: cloche.EventPending, Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("events still pending ten minutes after they fell due")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reportLateness reports the p50 and p99 of late, which must hold want
// values.
func reportLateness(b *testing.B, late []time.Duration, want int) {
	b.Helper()
	if len(late) != want {
		b.Fatalf("%d events published, want %d", len(late), want)
	}
	slices.Sort(late)
	b.ReportMetric(float64(late[len(late)/2].Milliseconds()), "p50-late-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Milliseconds()), "p99-late-ms")
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

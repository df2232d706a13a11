package cloche_test

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// exec runs statements on the raw database (? placeholders on both).
func (r *rawDB) exec(b *testing.B, q string, args ...any) {
	b.Helper()
	ctx := context.Background()
	var err error
	if r.lite != nil {
		_, err = r.lite.ExecContext(ctx, q, args...)
	} else {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
		_, err = r.pg.Exec(ctx, q, args...)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDigests runs the digests of 10,000 people with 20 held items
// each: claiming the due schedules, rendering one message per person
// (digest.html and digest.txt), queueing its delivery and marking the
// items, batch by batch, each in one transaction. The items are held by
// 20 real publications to the group (the fan-out's holdForDigests); every
// iteration makes them due and pending again. It reports digests/s.
func BenchmarkDigests(b *testing.B) {
	const people, items = 10000, 20
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			ctx := context.Background()
			svc, err := cloche.Open(ctx, testConfig(url), cloche.WithLogger(testLogger(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Close() })
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, people, "all")
			raw.exec(b, `INSERT INTO digest_settings (user_id, category, frequency, at, day, next_at, updated_at)
				SELECT id, '', 'daily', '08:00', '', ?, ? FROM users`, time.Now().UTC().Add(time.Hour), time.Now().UTC())
			for i := range items {
				res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: fmt.Sprintf("Devis %d validé", i),
					Body: fmt.Sprintf(`<p>Le devis <strong>D-%d</strong> a été validé : <a href="https://endi.example.org/d/%d">le voir</a>.</p>`, i, i)},
					cloche.Recipients{GroupNames: []string{"all"}})
				if err != nil {
					b.Fatal(err)
				}
				if res.Reached[cloche.ChannelEmail] != 0 {
					b.Fatalf("e-mailed %d people on a digest", res.Reached[cloche.ChannelEmail])
				}
			}
			// Kept aside: a run deletes the items it lists.
			raw.exec(b, `CREATE TABLE bench_items AS SELECT user_id, event_id, category, schedule, reason, created_at FROM digest_items`)
			// What the setup wrote is flushed before the timed runs.
			settle := func() {
				if raw.pg != nil {
					raw.exec(b, "VACUUM ANALYZE")
					raw.exec(b, "CHECKPOINT")
				} else {
					raw.checkpoint(b)
				}
			}
			var total, cpu time.Duration
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				raw.exec(b, `DELETE FROM deliveries WHERE event_id < 0`)
				raw.exec(b, `DELETE FROM digests`)
				raw.exec(b, `DELETE FROM digest_items`)
				raw.exec(b, `INSERT INTO digest_items (user_id, event_id, category, schedule, reason, created_at)
					SELECT user_id, event_id, category, schedule, reason, created_at FROM bench_items`)
				settle()
				raw.exec(b, `UPDATE digest_settings SET next_at = ?`, time.Now().UTC().Add(-time.Minute))
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime(b)
				run, err := svc.RunDigests(ctx)
				total += time.Since(t0)
				cpu += cpuTime(b) - c0
				if err != nil {
					b.Fatal(err)
				}
				if run.Digests != people || run.Items != people*items {
					b.Fatalf("run %+v, want %d digests of %d items", run, people, items)
				}
			}
			b.ReportMetric(float64(people*b.N)/total.Seconds(), "digests/s")
			// The time this process was on a CPU: on a machine other work
			// shares, what the run would take alone (with SQLite, all of
			// it; with PostgreSQL, less the server's).
			b.ReportMetric(float64(people*b.N)/cpu.Seconds(), "digests/cpu-s")
		})
	}
}

// cpuTime is the user and system time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

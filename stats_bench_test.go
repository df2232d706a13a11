package cloche_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkStats reads the console's dashboard figures beside a baseline
// that counts today's notifications per channel in the notifications table
// itself, the way Stats avoids. The database holds 200 events published
// today to 1,000 users each (200,000 notifications), and from the days
// before 100,000 events and 500,000 notifications.
//
//	go test -run '^$' -bench Stats -benchtime 20x .
func BenchmarkStats(b *testing.B) {
	ctx := context.Background()
	const users, today, history = 1000, 200, 500_000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, users, "everyone")
			ids := userIDs(users)
			old, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "yesterday"},
				cloche.Recipients{UserIDs: []string{"u1"}})
			if err != nil {
				b.Fatal(err)
			}
			yesterday := time.Now().Add(-24 * time.Hour)
			for range history / users {
				raw.insertNotifications(b, old.EventID, ids, yesterday)
			}
			raw.insertPublishedEvents(b, 100_000, yesterday)
			for i := range today {
				if _, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprint("today ", i)},
					cloche.Recipients{GroupNames: []string{"everyone"}}); err != nil {
					b.Fatal(err)
				}
			}
			raw.analyze(b)
			st, err := svc.Stats(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if st.Reached[cloche.ChannelMessage] < today*users {
				b.Fatalf("Stats reached %v, want at least %d messages", st.Reached, today*users)
			}
			since := st.Since.UTC()
			var statsTime, baselineTime time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := svc.Stats(ctx); err != nil {
					b.Fatal(err)
				}
				statsTime += time.Since(t0)
				t0 = time.Now()
				if n := raw.countSince(b, since); n < today*users {
					b.Fatalf("baseline counted %d", n)
				}
				baselineTime += time.Since(t0)
			}
			b.ReportMetric(float64(statsTime.Microseconds())/1000/float64(b.N), "stats-ms")
			b.ReportMetric(float64(baselineTime.Microseconds())/1000/float64(b.N), "baseline-ms")
			b.ReportMetric(baselineTime.Seconds()/statsTime.Seconds(), "x-faster")
		})
	}
}

// countSince counts the notifications created since t, per channel, and
// returns the total: the baseline of BenchmarkStats.
func (r *rawDB) countSince(b *testing.B, t time.Time) int {
	b.Helper()
	ctx := context.Background()
	// sum adds up the counts of either driver's rows.
	sum := func(next func() bool, scan func(...any) error) int {
		total := 0
		for next() {
			var ch string
			var n int
			if err := scan(&ch, &n); err != nil {
				b.Fatal(err)
			}
			total += n
		}
		return total
	}
	if r.lite != nil {
		rows, err := r.lite.QueryContext(ctx, `SELECT channel, count(*) FROM notifications WHERE created_at >= ? GROUP BY channel`, t)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		return sum(rows.Next, rows.Scan)
	}
	rows, err := r.pg.Query(ctx, `SELECT channel, count(*) FROM notifications WHERE created_at >= $1 GROUP BY channel`, t)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	return sum(rows.Next, rows.Scan)
}

// insertPublishedEvents writes n events published at t, each having
// reached one user on the message channel.
func (r *rawDB) insertPublishedEvents(b *testing.B, n int, t time.Time) {
	b.Helper()
	ctx := context.Background()
	t = t.UTC().Truncate(time.Microsecond)
	var err error
	if r.lite != nil {
		_, err = r.lite.ExecContext(ctx, `INSERT INTO events (key, title, channel, recipients, status, counts, created_at, updated_at, published_at)
			WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
			SELECT 'message:internal', 'old ' || i, 'message', '{"user_ids":["u1"]}', 'published', '{"message":1}', ?, ?, ? FROM s`, n, t, t, t)
	} else {
		_, err = r.pg.Exec(ctx, `INSERT INTO events (key, title, channel, recipients, status, counts, created_at, updated_at, published_at)
			SELECT 'message:internal', 'old ' || i, 'message', '{"user_ids":["u1"]}', 'published', '{"message":1}', $2, $2, $2
			FROM generate_series(1, $1) i`, n, t)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// analyze refreshes PostgreSQL's statistics after a bulk load.
func (r *rawDB) analyze(b *testing.B) {
	if r.pg == nil {
		return
	}
	if _, err := r.pg.Exec(context.Background(), "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

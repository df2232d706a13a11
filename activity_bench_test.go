package cloche_test

import (
	"context"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkActivity reads the console's activity charts (Service.Activity:
// 24 hours and 30 days of notifications per channel, e-mail outcomes,
// scheduler lag) on a history of 30 days: 30,000 published events (a third
// of them scheduled), 1,000,000 notifications and 100,000 e-mails. In the
// same loop it times:
//
//   - dashboard: Stats and the 10 recent events, the dashboard without
//     its charts (the baseline);
//
//   - naive (three times before the loop): the same per-day,
//     per-channel counts read from the notifications table itself;
//
//   - readrates: the read rate per type over 30 days (every notification
//     of the period, through the index of migration 00017);
//
//   - recipients: the first page of the recipients of an event that
//     reached 1,000 people.
//
//     go test -run '^$' -bench Activity -benchtime 20x -count 3 .
func BenchmarkActivity(b *testing.B) {
	ctx := context.Background()
	const users, events, perEvent, emails = 1000, 30_000, 33, 100_000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, users, "everyone")
			now := time.Now().UTC().Truncate(time.Second)
			// One event every 86 s back from now, over 30 days; every third
			// was scheduled and published up to 40 s late.
			if raw.lite != nil {
				base := now.Format("2006-01-02 15:04:05")
				raw.exec(b, `INSERT INTO events (key, title, channel, recipients, status, counts, created_at, updated_at, published_at, due_at)
					WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1),
					t(i, at) AS (SELECT i, strftime('%Y-%m-%d %H:%M:%S', ?, '-' || (i * 86) || ' seconds') FROM s)
					SELECT 'message:internal', 'event ' || i, 'message', '{"group_names":["everyone"]}', 'published',
						'{"message":33,"email":3}', at || '+00:00', at || '+00:00', at || '+00:00',
						CASE WHEN i % 3 = 0 THEN strftime('%Y-%m-%d %H:%M:%S', at, '-' || (i % 40) || ' seconds') || '+00:00' END
					FROM t`, events, base)
				raw.exec(b, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, read_at)
					WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1)
					SELECT e.id, 'u' || (1 + (s.i * 7 + s.i / ?) % ?), 'message', e.published_at, e.published_at,
						CASE WHEN s.i % 4 = 0 THEN e.published_at END
					FROM s JOIN events e ON e.id = (SELECT min(id) FROM events) + s.i / ?`, events*perEvent, perEvent, users, perEvent)
				raw.exec(b, `INSERT INTO deliveries (event_id, user_id, address, state, created_at, updated_at)
					WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ? - 1)
					SELECT e.id, 'u' || (1 + s.i % ?), 'u' || (1 + s.i % ?) || '@example.org',
						CASE s.i % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' ELSE 'sent' END, e.published_at, e.published_at
					FROM s JOIN events e ON e.id = (SELECT min(id) FROM events) + s.i * ? / ?`, emails, users, users, events, emails)
			} else {
				raw.exec(b, `INSERT INTO events (key, title, channel, recipients, status, counts, created_at, updated_at, published_at, due_at)
					SELECT 'message:internal', 'event ' || i, 'message', '{"group_names":["everyone"]}', 'published',
						'{"message":33,"email":3}', at, at, at, CASE WHEN i % 3 = 0 THEN at - (i % 40) * interval '1 second' END
					FROM (SELECT i, ?::timestamptz - i * interval '86 seconds' AS at FROM generate_series(0, ? - 1) i) t`, now, events)
				raw.exec(b, `INSERT INTO notifications (event_id, user_id, channel, created_at, visible_at, read_at)
					SELECT e.id, 'u' || (1 + (s.i * 7 + s.i / ?) % ?), 'message', e.published_at, e.published_at,
						CASE WHEN s.i % 4 = 0 THEN e.published_at END
					FROM generate_series(0, ? - 1) s(i) JOIN events e ON e.id = (SELECT min(id) FROM events) + s.i / ?`,
					perEvent, users, events*perEvent, perEvent)
				raw.exec(b, `INSERT INTO deliveries (event_id, user_id, address, state, created_at, updated_at)
					SELECT e.id, 'u' || (1 + s.i % ?), 'u' || (1 + s.i % ?) || '@example.org',
						CASE s.i % 10 WHEN 0 THEN 'failed' WHEN 1 THEN 'skipped' ELSE 'sent' END, e.published_at, e.published_at
					FROM generate_series(0, ? - 1) s(i) JOIN events e ON e.id = (SELECT min(id) FROM events) + s.i::bigint * ? / ?`,
					users, users, emails, events, emails)
			}
			// One event to everyone, for the recipients page.
			wide, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "to everyone"},
				cloche.Recipients{GroupNames: []string{"everyone"}})
			if err != nil {
				b.Fatal(err)
			}
			raw.analyze(b)

			t0 := time.Now()
			a, err := svc.Activity(ctx)
			if err != nil {
				b.Fatal(err)
			}
			first := time.Since(t0)
			month := 0
			for _, d := range a.Days {
				month += d.Reached[cloche.ChannelMessage]
			}
			if month < 29*1000*perEvent {
				b.Fatalf("Activity counted %d bell notifications in 30 days", month)
			}
			since := a.Days[0].Start.UTC()
			var dash, act, naive, rates, rcpt time.Duration
			// The naive count reads the whole notifications table (seconds
			// on a loaded machine): timed three times, before the loop.
			for range 3 {
				t0 := time.Now()
				raw.countPerDay(b, since)
				naive += time.Since(t0)
			}
			naive /= 3
			timeIt := func(d *time.Duration, fn func() error) {
				t0 := time.Now()
				if err := fn(); err != nil {
					b.Fatal(err)
				}
				*d += time.Since(t0)
			}
			for b.Loop() {
				timeIt(&dash, func() error {
					if _, err := svc.Stats(ctx); err != nil {
						return err
					}
					_, err := svc.Events(ctx, cloche.EventFilter{Limit: 10})
					return err
				})
				timeIt(&act, func() error { _, err := svc.Activity(ctx); return err })
				timeIt(&rates, func() error { _, err := svc.ReadRates(ctx, 30); return err })
				timeIt(&rcpt, func() error { _, err := svc.Recipients(ctx, wide.EventID, "", 50); return err })
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
			b.ReportMetric(ms(dash), "dashboard-ms")
			b.ReportMetric(ms(act), "activity-ms")
			b.ReportMetric(float64(naive.Microseconds())/1000, "naive-ms")
			b.ReportMetric(ms(rates), "readrates-ms")
			b.ReportMetric(ms(rcpt), "recipients-ms")
		})
	}
}

// countPerDay counts the notifications per UTC day and channel since t
// from the notifications table: the naive way to draw the charts.
func (r *rawDB) countPerDay(b *testing.B, t time.Time) {
	b.Helper()
	ctx := context.Background()
	if r.lite != nil {
		rows, err := r.lite.QueryContext(ctx, `SELECT substr(created_at, 1, 10), channel, count(*) FROM notifications
			WHERE created_at >= ? GROUP BY 1, 2`, t)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
		return
	}
	rows, err := r.pg.Query(ctx, `SELECT date_trunc('day', created_at AT TIME ZONE 'UTC'), channel, count(*) FROM notifications
		WHERE created_at >= $1 GROUP BY 1, 2`, t)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
}

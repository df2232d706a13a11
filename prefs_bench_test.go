package cloche_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// seedPreferences gives one member in ten of a seeded group settings for
// the prefs category, mixed per type and category: a quarter mute the
// type's channel (message) for the type, a quarter mute it for the
// category but turn it back on for the type, a quarter add alert for the
// category, a quarter add e-mail for the type.
func (r *rawDB) seedPreferences(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	rows := []struct {
		quarter         int
		kind, scope, ch string
		enabled         bool
	}{
		{0, "type", "prefs:notice", "message", false},
		{1, "category", "prefs", "message", false},
		{1, "type", "prefs:notice", "message", true},
		{2, "category", "prefs", "alert", true},
		{3, "type", "prefs:notice", "email", true},
	}
	for _, row := range rows {
		q := `INSERT INTO preferences (user_id, kind, scope, channel, enabled, updated_at)
			SELECT id, ?, ?, ?, ?, ? FROM users
			WHERE CAST(substr(id, 2) AS INTEGER) % 10 = 0 AND (CAST(substr(id, 2) AS INTEGER) / 10) % 4 = ?`
		args := []any{row.kind, row.scope, row.ch, row.enabled, now, row.quarter}
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
	if r.pg != nil {
		if _, err := r.pg.Exec(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNotifyGroupPreferences notifies a group of 100,000 members,
// one in ten of whom have preferences for the type (seedPreferences),
// beside the same notify of a type nobody has preferences for, in the
// same run on the same database, alternately. Rows are notifications and
// deliveries made.
//
//	go test -run '^$' -bench NotifyGroupPreferences -benchtime 3x .
func BenchmarkNotifyGroupPreferences(b *testing.B) {
	ctx := context.Background()
	const size = 100_000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, size, "everyone")
			for _, key := range []string{"plain:notice", "prefs:notice"} {
				if _, err := svc.SetType(ctx, cloche.NotificationType{Key: key, DefaultChannel: cloche.ChannelMessage}); err != nil {
					b.Fatal(err)
				}
			}
			raw.seedPreferences(b)
			everyone := cloche.Recipients{GroupNames: []string{"everyone"}}
			notify := func(key string) (time.Duration, int) {
				raw.checkpoint(b)
				t0 := time.Now()
				res, err := svc.Notify(ctx, cloche.Notification{Key: key, Title: "Hello"}, everyone)
				d := time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, c := range res.Reached {
					n += c
				}
				return d, n
			}
			var prefsTime, plainTime time.Duration
			var prefsRows, plainRows int
			// Each iteration's ratio too: its two sides run back to back,
			// so that their median is not moved by a burst of load on a
			// shared machine the way the totals are.
			var pairs []float64
			// Which side goes first alternates, so that neither always
			// meets the other's leftovers (WAL, dirty pages, caches).
			first := true
			for b.Loop() {
				var rate [2]float64 // rows/s: prefs, plain
				for _, key := range []string{"prefs:notice", "plain:notice"} {
					if !first {
						key = map[string]string{"prefs:notice": "plain:notice", "plain:notice": "prefs:notice"}[key]
					}
					d, n := notify(key)
					if key == "prefs:notice" {
						prefsTime, prefsRows = prefsTime+d, prefsRows+n
						rate[0] = float64(n) / d.Seconds()
					} else {
						plainTime, plainRows = plainTime+d, plainRows+n
						rate[1] = float64(n) / d.Seconds()
					}
				}
				pairs = append(pairs, 100*rate[0]/rate[1])
				first = !first
			}
			// 100,000 less 2,500 muted on message (the other quarter that
			// muted the category turned the type back on), plus 2,500
			// alerts and 2,500 e-mails.
			if want := (size + size/40) * b.N; prefsRows != want || plainRows != size*b.N {
				b.Fatalf("rows: with preferences %d, want %d; without %d", prefsRows, want, plainRows)
			}
			prefsRate := float64(prefsRows) / prefsTime.Seconds()
			plainRate := float64(plainRows) / plainTime.Seconds()
			b.ReportMetric(prefsTime.Seconds()*1000/float64(b.N), "prefs-ms")
			b.ReportMetric(plainTime.Seconds()*1000/float64(b.N), "plain-ms")
			b.ReportMetric(prefsRate, "prefs-rows/s")
			b.ReportMetric(plainRate, "plain-rows/s")
			b.ReportMetric(100*prefsRate/plainRate, "%-of-plain")
			slices.Sort(pairs)
			b.ReportMetric((pairs[(len(pairs)-1)/2]+pairs[len(pairs)/2])/2, "median-pair-%")
		})
	}
}

// BenchmarkNotifyOnePreferences notifies one person, among 10,000 of whom
// one in ten have preferences (seedPreferences), of a type nobody has
// preferences for (plain) and of the type they set (prefs): what
// preferences cost the many small notifies. Compare builds with benchstat.
//
//	go test -run '^$' -bench NotifyOnePreferences -count 5 .
func BenchmarkNotifyOnePreferences(b *testing.B) {
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, 10_000, "everyone")
			for _, key := range []string{"plain:notice", "prefs:notice"} {
				if _, err := svc.SetType(ctx, cloche.NotificationType{Key: key, DefaultChannel: cloche.ChannelMessage}); err != nil {
					b.Fatal(err)
				}
			}
			raw.seedPreferences(b)
			// u40 muted the type's channel: the prefs side records a skip.
			for _, tc := range []struct{ name, key, user string }{
				{"plain", "plain:notice", "u7"},
				{"prefs", "prefs:notice", "u7"},
				{"prefs-muted", "prefs:notice", "u40"},
			} {
				b.Run(tc.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := svc.Notify(ctx, cloche.Notification{Key: tc.key, Title: "Hello"},
							cloche.Recipients{UserIDs: []string{tc.user}}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

package cloche_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkNotifyGroupQuietHours e-mails a group of 100,000 members, one
// in ten of whom are in their quiet hours (whole days, today and
// tomorrow in Europe/Paris, whatever the hour the benchmark runs at), so
// that their 10,000 deliveries are held; beside it, in the same run on
// the same database, alternately, the same notify of a mandatory type,
// which quiet hours do not hold (its publication reads no settings: what
// a publication costs where nobody set any). Rows are deliveries made.
//
//	go test -run '^$' -bench NotifyGroupQuietHours -benchtime 3x .
func BenchmarkNotifyGroupQuietHours(b *testing.B) {
	ctx := context.Background()
	const size = 100_000
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			svc := openBench(b, url)
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, size, "everyone")
			if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "mail:notice", DefaultChannel: cloche.ChannelEmail}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "mail:urgent", DefaultChannel: cloche.ChannelEmail}, cloche.Mandatory(true)); err != nil {
				b.Fatal(err)
			}
			today := time.Now().In(paris)
			quiet := `{"start":"00:00","end":"00:00","days":["` + strings.ToLower(today.Weekday().String()) + `","` +
				strings.ToLower(today.AddDate(0, 0, 1).Weekday().String()) + `"]}`
			q := `UPDATE users SET time_zone = 'Europe/Paris', quiet_hours = ? WHERE CAST(substr(id, 2) AS INTEGER) % 10 = 0`
			var err error
			if raw.lite != nil {
				_, err = raw.lite.ExecContext(ctx, q, quiet)
			} else {
				if _, err = raw.pg.Exec(ctx, strings.Replace(q, "?", "$1", 1), quiet); err == nil {
					_, err = raw.pg.Exec(ctx, "ANALYZE")
				}
			}
			if err != nil {
				b.Fatal(err)
			}
			everyone := cloche.Recipients{GroupNames: []string{"everyone"}}
			notify := func(key string) (time.Duration, int) {
				raw.checkpoint(b)
				t0 := time.Now()
				res, err := svc.Notify(ctx, cloche.Notification{Key: key, Title: "Hello"}, everyone)
				d := time.Since(t0)
				if err != nil {
					b.Fatal(err)
				}
				return d, res.Reached[cloche.ChannelEmail]
			}
			var quietTime, plainTime time.Duration
			var quietRows, plainRows int
			first := true
			for b.Loop() {
				for _, key := range []string{"mail:notice", "mail:urgent"} {
					if !first {
						key = map[string]string{"mail:notice": "mail:urgent", "mail:urgent": "mail:notice"}[key]
					}
					d, n := notify(key)
					if key == "mail:notice" {
						quietTime, quietRows = quietTime+d, quietRows+n
					} else {
						plainTime, plainRows = plainTime+d, plainRows+n
					}
				}
				first = !first
			}
			if quietRows != size*b.N || plainRows != size*b.N {
				b.Fatalf("rows: %d and %d, want %d each", quietRows, plainRows, size*b.N)
			}
			quietRate := float64(quietRows) / quietTime.Seconds()
			plainRate := float64(plainRows) / plainTime.Seconds()
			b.ReportMetric(quietTime.Seconds()*1000/float64(b.N), "quiet-ms")
			b.ReportMetric(plainTime.Seconds()*1000/float64(b.N), "mandatory-ms")
			b.ReportMetric(100*quietRate/plainRate, "%-of-mandatory")
		})
	}
}

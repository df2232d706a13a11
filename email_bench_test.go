package cloche_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkEmailDelivery sends a notification to a group of 10,000 users
// by e-mail, end to end (notify, the job, claims, rendering, SMTP over the
// pool of connections, records) until every delivery is recorded sent,
// and, in the same loop, a baseline: the same 10,000 messages built with
// go-mail and sent straight over one reused connection. Both go to the
// same local go-smtp sink.
func BenchmarkEmailDelivery(b *testing.B) {
	const n = 10000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			sink := smtptest.Start(b, smtptest.Options{Discard: true})
			cfg := cloche.DefaultConfig()
			cfg.DatabaseURL = url
			cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = sink.Host, sink.Port, "none"
			cfg.SMTP.From = "Cloche <noreply@cloche.test>"
			svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(testLogger(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Close() })
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, n, "all")
			ctx := context.Background()
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = svc.Stop(ctx)
			})
			baseline := newBaseline(b, sink)
			var e2e, base time.Duration
			b.ResetTimer()
			for i := range b.N {
				received := sink.Count()
				t0 := time.Now()
				res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: fmt.Sprint("Invoice ", i),
					Body: "<p>Your invoice was <strong>validated</strong>: <a href=\"https://endi.example.org/i/42\">see it</a>.</p>"},
					cloche.Recipients{GroupNames: []string{"all"}})
				if err != nil {
					b.Fatal(err)
				}
				if res.Reached[cloche.ChannelEmail] != n {
					b.Fatalf("reached %v", res.Reached)
				}
				// The sink counts in memory; the database is asked only
				// once every message has arrived, for the last records.
				if !sink.WaitCount(received+n, 5*time.Minute) {
					b.Fatalf("sink received %d messages, want %d", sink.Count()-received, n)
				}
				raw.waitSent(b, res.EventID, n)
				e2e += time.Since(t0)
				if got := sink.Count() - received; got != n {
					b.Fatalf("sink received %d messages, want %d", got, n)
				}

				t0 = time.Now()
				baseline.send(b, fmt.Sprint("Invoice ", i), n)
				base += time.Since(t0)
				if got := sink.Count() - received; got != 2*n {
					b.Fatalf("sink received %d messages after the baseline, want %d", got, 2*n)
				}
			}
			b.StopTimer()
			e2eRate := float64(n*b.N) / e2e.Seconds()
			baseRate := float64(n*b.N) / base.Seconds()
			b.ReportMetric(e2eRate, "msgs/s")
			b.ReportMetric(baseRate, "baseline-msgs/s")
			b.ReportMetric(100*e2eRate/baseRate, "%-of-baseline")
		})
	}
}

// waitSent polls until n deliveries of the event are sent.
func (r *rawDB) waitSent(b *testing.B, eventID int64, n int) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var sent int
		var err error
		q := `SELECT count(*) FROM deliveries WHERE event_id = $1 AND state = 'sent'`
		if r.lite != nil {
			err = r.lite.QueryRow(q, eventID).Scan(&sent)
		} else {
			err = r.pg.QueryRow(context.Background(), q, eventID).Scan(&sent)
		}
		if err != nil && err != sql.ErrNoRows {
			b.Fatal(err)
		}
		if sent >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d deliveries sent", sent, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// baseline sends messages the plainest way: go-mail, one connection kept
// open, the same client options and message as the mailer's.
type baseline struct {
	client *mail.Client
	tmpl   *email.Templates
}

func newBaseline(b *testing.B, sink *smtptest.Server) *baseline {
	client, err := mail.NewClient(sink.Host, mail.WithPort(sink.Port), mail.WithTLSPolicy(mail.NoTLS),
		mail.WithTimeout(30*time.Second), mail.WithoutNoop(), mail.WithoutRset())
	if err != nil {
		b.Fatal(err)
	}
	tmpl, err := email.LoadTemplates("", "fr")
	if err != nil {
		b.Fatal(err)
	}
	return &baseline{client: client, tmpl: tmpl}
}

func (bl *baseline) send(b *testing.B, title string, n int) {
	b.Helper()
	msg, err := bl.tmpl.Render(&email.Content{Key: "task:status:valid", Title: title, StatusType: store.StatusValid,
		Body: "<p>Your invoice was <strong>validated</strong>: <a href=\"https://endi.example.org/i/42\">see it</a>.</p>"},
		email.Recipient{Locale: "fr", Reason: "group:all"})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*mail.Msg, n)
	for i := range msgs {
		m := mail.NewMsg(mail.WithNoDefaultUserAgent())
		if err := m.From("Cloche <noreply@cloche.test>"); err != nil {
			b.Fatal(err)
		}
		if err := m.AddToFormat("User "+strconv.Itoa(i+1), "u"+strconv.Itoa(i+1)+"@example.org"); err != nil {
			b.Fatal(err)
		}
		m.Subject(msg.Subject)
		m.SetMessageIDWithValue(fmt.Sprintf("%x.%d@cloche.test", time.Now().UnixNano(), i))
		m.SetDate()
		m.SetUserAgent("Cloche")
		m.SetGenHeader("Auto-Submitted", "auto-generated")
		m.SetGenHeader(mail.HeaderContentLang, msg.Locale)
		m.SetBodyString(mail.TypeTextPlain, msg.Text)
		m.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
		msgs[i] = m
	}
	if err := bl.client.DialWithContext(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := bl.client.Send(msgs...); err != nil {
		b.Fatal(err)
	}
	if err := bl.client.Close(); err != nil {
		b.Fatal(err)
	}
}

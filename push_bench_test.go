package cloche_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/push/pushtest"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkPushDelivery pushes a notification to 10,000 people, one
// browser each, end to end (notify, the deliveries, the job's claims,
// encryption and a VAPID token per push, the POSTs to a local push
// service, the records) until every delivery is recorded sent; and, in
// the same loop, a baseline: a bare net/http client posting 10,000
// bodies of the same size (an encrypted push is one 4096-byte record) to
// the same push service, as many at once as the channel.
func BenchmarkPushDelivery(b *testing.B) {
	const n = 10000
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			url := backend.URL(b)
			ps := pushtest.NewCounting(b)
			cfg := cloche.DefaultConfig()
			cfg.DatabaseURL = url
			cfg.Push.Subject = "mailto:ops@cloche.test"
			cfg.Push.AllowLoopback = true
			svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(testLogger(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Close() })
			raw := openRaw(b, backend.Name, url)
			raw.seedGroup(b, n, "all")
			raw.seedPushSubscriptions(b, ps.Subscribe(), ps.URL)
			ctx := context.Background()
			if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "task:push", Label: "Push", DefaultChannel: cloche.ChannelPush, StatusType: "valid"}); err != nil {
				b.Fatal(err)
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = svc.Stop(ctx)
			})
			body := bytes.Repeat([]byte{0x5a}, 4096)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Push.Concurrency, MaxIdleConns: 4 * cfg.Push.Concurrency}}
			var e2e, base, e2eCPU, baseCPU time.Duration
			b.ResetTimer()
			for i := range b.N {
				received := ps.Count()
				t0, c0 := time.Now(), cpuTime(b)
				res, err := svc.Notify(ctx, cloche.Notification{Key: "task:push", Title: fmt.Sprint("Invoice ", i),
					Body: "<p>Your invoice was <strong>validated</strong>: <a href=\"https://endi.example.org/i/42\">see it</a>.</p>"},
					cloche.Recipients{GroupNames: []string{"all"}})
				if err != nil {
					b.Fatal(err)
				}
				if res.Reached[cloche.ChannelPush] != n {
					b.Fatalf("reached %v", res.Reached)
				}
				raw.waitSent(b, res.EventID, n)
				e2e, e2eCPU = e2e+time.Since(t0), e2eCPU+cpuTime(b)-c0
				if got := ps.Count() - received; got != n {
					b.Fatalf("push service received %d pushes, want %d", got, n)
				}

				t0, c0 = time.Now(), cpuTime(b)
				pushPostAll(b, client, ps.URL, body, n, cfg.Push.Concurrency)
				base, baseCPU = base+time.Since(t0), baseCPU+cpuTime(b)-c0
				if got := ps.Count() - received; got != 2*n {
					b.Fatalf("push service received %d pushes after the baseline, want %d", got, 2*n)
				}
			}
			b.StopTimer()
			e2eRate := float64(n*b.N) / e2e.Seconds()
			baseRate := float64(n*b.N) / base.Seconds()
			b.ReportMetric(e2eRate, "pushes/s")
			b.ReportMetric(baseRate, "baseline-posts/s")
			b.ReportMetric(100*e2eRate/baseRate, "%-of-baseline")
			// CPU time of the whole process (the push service included)
			// per push: what the machine's load does not change much.
			b.ReportMetric(float64(e2eCPU.Microseconds())/float64(n*b.N), "cpu-µs/push")
			b.ReportMetric(float64(baseCPU.Microseconds())/float64(n*b.N), "baseline-cpu-µs/post")
		})
	}
}

// pushPostAll posts body n times to the push service, workers at once, with
// the headers of a push.
func pushPostAll(b *testing.B, client *http.Client, base string, body []byte, n, workers int) {
	b.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range workers {
		wg.Go(func() {
			for i := range next {
				req, _ := http.NewRequest("POST", fmt.Sprintf("%s/push/base-%d", base, i), bytes.NewReader(body))
				req.Header.Set("Content-Encoding", "aes128gcm")
				req.Header.Set("Content-Type", "application/octet-stream")
				req.Header.Set("TTL", "259200")
				req.Header.Set("Urgency", push.UrgencyNormal)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}

// seedPushSubscriptions gives every user one browser on the push
// service, with sub's keys.
func (r *rawDB) seedPushSubscriptions(b *testing.B, sub *pushtest.Subscription, base string) {
	b.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if r.lite != nil {
		if _, err := r.lite.ExecContext(ctx, `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
			SELECT id, ? || '/push/' || id, ?, ?, ? FROM users`, base, sub.P256dh, sub.Auth, now); err != nil {
			b.Fatal(err)
		}
		return
	}
	if _, err := r.pg.Exec(ctx, `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
		SELECT id, $1 || '/push/' || id, $2, $3, $4 FROM users`, base, sub.P256dh, sub.Auth, now); err != nil {
		b.Fatal(err)
	}
	if _, err := r.pg.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

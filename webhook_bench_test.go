package cloche_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkWebhookDelivery posts 10,000 webhooks (one event to 10,000
// outlets of the standard format) to a local receiver, end to
// end (notify, the fan-out to outlets, the jobs, claims, rendering,
// signing, HTTP, records) until every delivery is recorded sent, and, in
// the same loop, a baseline: a bare net/http client posting the same
// 10,000 bodies to the same receiver over as many connections (32).
func BenchmarkWebhookDelivery(b *testing.B) {
	const outlets, events = 10000, 1
	const n = outlets * events
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			var (
				count  atomic.Int64
				mu     sync.Mutex
				record bool
				bodies [][]byte
				urls   []string
			)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				if record {
					bodies, urls = append(bodies, body), append(urls, r.URL.Path)
				}
				mu.Unlock()
				count.Add(1)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			url := backend.URL(b)
			cfg := cloche.DefaultConfig()
			cfg.DatabaseURL = url
			svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(testLogger(b)))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { svc.Close() })
			ctx := context.Background()
			for i := range outlets {
				if _, err := svc.AddWebhook(ctx, cloche.WebhookInput{Name: fmt.Sprint("o", i),
					URL: fmt.Sprintf("%s/o/%d", rcv.URL, i), Types: []string{"task:*"}}); err != nil {
					b.Fatal(err)
				}
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = svc.Stop(ctx)
			})
			client := &http.Client{Transport: &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 32}, Timeout: 10 * time.Second}
			var e2e, base, e2eCPU, baseCPU time.Duration
			b.ResetTimer()
			for i := range b.N {
				mu.Lock()
				record, bodies, urls = i == 0, nil, nil
				mu.Unlock()
				start := count.Load()
				t0, c0 := time.Now(), cpuTime(b)
				for e := range events {
					if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: fmt.Sprintf("Invoice %d-%d", i, e),
						Body: `<p>Invoice <strong>validated</strong>: <a href="https://endi.example.org/i/42">see it</a>.</p>`},
						cloche.Recipients{UserIDs: []string{"1"}}); err != nil {
						b.Fatal(err)
					}
				}
				deadline := time.Now().Add(5 * time.Minute)
				for count.Load()-start < n {
					if time.Now().After(deadline) {
						b.Fatalf("receiver got %d webhooks, want %d", count.Load()-start, n)
					}
					time.Sleep(2 * time.Millisecond)
				}
				waitWebhooksSent(b, svc, n*(i+1), deadline)
				e2e, e2eCPU = e2e+time.Since(t0), e2eCPU+cpuTime(b)-c0

				mu.Lock()
				record = false
				payloads, paths := bodies, urls
				mu.Unlock()
				start = count.Load()
				t0, c0 = time.Now(), cpuTime(b)
				postAll(b, client, rcv.URL, paths, payloads, 32)
				base, baseCPU = base+time.Since(t0), baseCPU+cpuTime(b)-c0
				if got := count.Load() - start; got != int64(len(payloads)) {
					b.Fatalf("baseline posted %d, want %d", got, len(payloads))
				}
			}
			b.StopTimer()
			e2eRate := float64(n*b.N) / e2e.Seconds()
			baseRate := float64(n*b.N) / base.Seconds()
			b.ReportMetric(e2eRate, "webhooks/s")
			b.ReportMetric(baseRate, "baseline-posts/s")
			b.ReportMetric(100*e2eRate/baseRate, "%-of-baseline")
			// CPU time of the whole process (the receiver included) per
			// webhook: what the machine's load changes least.
			b.ReportMetric(float64(e2eCPU.Microseconds())/float64(n*b.N), "cpu-µs/webhook")
			b.ReportMetric(float64(baseCPU.Microseconds())/float64(n*b.N), "baseline-cpu-µs/post")
		})
	}
}

// waitWebhooksSent polls the metrics' counts until want webhook
// deliveries are recorded sent.
func waitWebhooksSent(b *testing.B, svc *cloche.Service, want int, deadline time.Time) {
	b.Helper()
	for {
		st, err := svc.MonitorStats(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if st.DeliveriesByChannel["webhook"][cloche.DeliverySent] >= want {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d webhooks recorded sent, want %d", st.DeliveriesByChannel["webhook"][cloche.DeliverySent], want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// postAll posts bodies[i] to base+paths[i] over conns connections.
func postAll(b *testing.B, client *http.Client, base string, paths []string, bodies [][]byte, conns int) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				resp, err := client.Post(base+paths[i], "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

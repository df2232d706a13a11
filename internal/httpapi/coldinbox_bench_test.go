package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkHTTPColdInbox measures the inbox reads with the read cache off
// (http.inbox_cache.ttl = 0s: what every first read after a change, every
// page after the first and every multi-process deployment see), beside
// GET /healthz in the same run, with wrk at 50 keep-alive connections
// (issue 14, "Cold inbox reads"):
//
//	go test -run '^$' -bench HTTPColdInbox -benchtime 1x -count 3 ./internal/httpapi/
//
// 100 users with 200 notifications on the bell's channel (message) and 20
// on header_message each; 50 users' tokens in turn. Each iteration runs,
// in two rounds of wrkDuration each: /healthz; the first page of the bell
// (channel=message, limit 20); the first page of every channel (no
// channel filter); a page after the first (the message channel's third
// page, by its cursor); the same without a channel filter; the unread
// counts. Each figure is reported as requests per second and as a share
// of the same run's /healthz. It needs wrk (apt-get install wrk).
func BenchmarkHTTPColdInbox(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	const wrkDuration = "5s"
	script, err := filepath.Abs("../../bench/wrk/requests.lua")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			dbURL := backend.URL(b)
			svc := coldService(b, dbURL)
			tokens := seedInboxes(b, svc)
			for i := range 20 {
				if _, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprint("h", i)},
					cloche.Recipients{GroupNames: []string{"all"}}, cloche.ForceChannel(cloche.ChannelHeaderMessage)); err != nil {
					b.Fatal(err)
				}
			}
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = svc.Stop(context.Background()) })
			base, _ := benchServer(b, svc)

			// Each user's cursor to their third page, per query.
			cursor := func(user int, channel cloche.Channel) string {
				q := cloche.InboxQuery{UserID: fmt.Sprint(user + 1), Channel: channel, All: true, Limit: 20}
				for range 2 {
					p, err := svc.Inbox(ctx, q)
					if err != nil || p.Next == "" {
						b.Fatalf("user %d: page %+v, %v", user+1, p, err)
					}
					q.Cursor = p.Next
				}
				return q.Cursor
			}
			kinds := []struct {
				name string
				path func(user int) string
			}{
				{"first-page", func(int) string { return "/api/v1/me/notifications?channel=message&limit=20" }},
				{"first-page-all", func(int) string { return "/api/v1/me/notifications?limit=20" }},
				{"cursor-page", func(u int) string {
					return "/api/v1/me/notifications?channel=message&limit=20&cursor=" + cursor(u, cloche.ChannelMessage)
				}},
				{"cursor-page-all", func(u int) string { return "/api/v1/me/notifications?limit=20&cursor=" + cursor(u, "") }},
				{"counts", func(int) string { return "/api/v1/me/counts" }},
			}
			requests := make([]string, len(kinds))
			for k, kind := range kinds {
				lines := make([]string, len(tokens))
				for u, tok := range tokens {
					lines[u] = tok + " " + kind.path(u)
				}
				requests[k] = strings.Join(lines, "\n")
			}
			run := func(sum *wrkResult, reqs string, path string) {
				b.Helper()
				// A generous timeout: on a loaded machine a late answer is
				// slow, not lost.
				args := []string{"-t1", fmt.Sprint("-c", benchClients), "-d" + wrkDuration, "--timeout", "30s", "--latency"}
				if reqs != "" {
					args = append(args, "-s", script)
				}
				cmd := exec.Command(wrk, append(args, base+path)...)
				cmd.Env = append(os.Environ(), "CLOCHE_BENCH_REQUESTS="+reqs)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("wrk: %v\n%s", err, out)
				}
				r, err := parseWrk(string(out))
				if err != nil {
					b.Fatalf("wrk: %v\n%s", err, out)
				}
				sum.add(r)
			}
			for b.Loop() {
				var healthz wrkResult
				results := make([]wrkResult, len(kinds))
				for range 2 {
					settle(b, dbURL)
					run(&healthz, "", "/healthz")
					for k := range kinds {
						settle(b, dbURL)
						run(&results[k], requests[k], "/healthz")
					}
				}
				b.ReportMetric(healthz.rate(), "healthz-req/s")
				for k, kind := range kinds {
					b.ReportMetric(results[k].rate(), kind.name+"-req/s")
					b.ReportMetric(100*results[k].rate()/healthz.rate(), kind.name+"-%-of-healthz")
				}
			}
		})
	}
}

// coldService is benchService with the inbox cache off.
func coldService(b *testing.B, dbURL string) *cloche.Service {
	b.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.HTTP.RateLimit.APIKey, cfg.HTTP.RateLimit.UserToken = 0, 0
	cfg.HTTP.InboxCache.TTL = 0
	svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

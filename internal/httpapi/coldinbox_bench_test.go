package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
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
//
// On PostgreSQL the loaded tables are vacuumed before the runs, as
// autovacuum does after a load (1,000 rows and a fifth of the table
// inserted): the test server runs without autovacuum, and without a
// visibility map every row an index-only count meets is also read from
// the table (four times the count's cost, BENCHMARKS.md, "Cold inbox
// reads, second pass"). CLOCHE_BENCH_NO_VACUUM=1 measures them unvacuumed.
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
	if _, err := os.Stat(script); err != nil {
		// wrk would say so, then run the plain URL (/healthz).
		b.Fatalf("run from internal/httpapi: %v", err)
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
			if !sqlite.IsURL(dbURL) && os.Getenv("CLOCHE_BENCH_NO_VACUUM") == "" {
				vacuum(b, dbURL)
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
			if only := os.Getenv("CLOCHE_BENCH_KINDS"); only != "" {
				// Some of the reads only (a regular expression on their
				// names), e.g. to profile one.
				re := regexp.MustCompile(only)
				kinds = slices.DeleteFunc(kinds, func(k struct {
					name string
					path func(user int) string
				}) bool {
					return !re.MatchString(k.name)
				})
			}
			requests := make([]string, len(kinds))
			for k, kind := range kinds {
				lines := make([]string, len(tokens))
				for u, tok := range tokens {
					lines[u] = tok + " " + kind.path(u)
				}
				requests[k] = strings.Join(lines, "\n")
			}
			run := func(sum *wrkResult, cpu *cpuUse, reqs string, path string) {
				b.Helper()
				start := cpuNow(b)
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
				wrkCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
				used := cpuNow(b) - start
				cpu.add(b, used+wrkCPU, string(out))
				if os.Getenv("CLOCHE_BENCH_CPU") != "" {
					b.Logf("server %v, wrk %v, %s", used, wrkCPU, strings.Fields(string(out)))
				}
			}
			for b.Loop() {
				var healthz wrkResult
				var healthzCPU cpuUse
				results := make([]wrkResult, len(kinds))
				cpus := make([]cpuUse, len(kinds))
				for range 2 {
					settle(b, dbURL)
					run(&healthz, &healthzCPU, "", "/healthz")
					for k := range kinds {
						settle(b, dbURL)
						run(&results[k], &cpus[k], requests[k], "/healthz")
					}
				}
				b.ReportMetric(healthz.rate(), "healthz-req/s")
				b.ReportMetric(healthzCPU.perRequest(), "healthz-cpu-µs/req")
				for k, kind := range kinds {
					b.ReportMetric(results[k].rate(), kind.name+"-req/s")
					b.ReportMetric(100*results[k].rate()/healthz.rate(), kind.name+"-%-of-healthz")
					b.ReportMetric(cpus[k].perRequest(), kind.name+"-cpu-µs/req")
					b.ReportMetric(100*healthzCPU.perRequest()/cpus[k].perRequest(), kind.name+"-cpu-%-of-healthz")
				}
			}
		})
	}
}

// cpuNow is the CPU time this process (the server) has used so far. On a
// machine other work shares, the rates of two runs move with the share of
// the cores each got; what a request costs in CPU moves much less, and
// "cpu-%-of-healthz" (healthz's CPU per request over the read's, the
// server's and wrk's) is what the rate's share would be on a machine of
// one's own with the cores busy. PostgreSQL's backends are not counted
// (read per process from /proc, their figures came out erratic): on
// PostgreSQL it is the server's side only.
func cpuNow(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuUse sums the CPU time and requests of runs.
type cpuUse struct {
	cpu      time.Duration
	requests int64
}

var wrkRequests = regexp.MustCompile(`(?m)^\s*([0-9]+) requests in `)

func (c *cpuUse) add(b *testing.B, cpu time.Duration, out string) {
	b.Helper()
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("wrk: no request count in\n%s", out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	c.cpu += cpu
	c.requests += n
}

// perRequest is the CPU time of a request, in microseconds.
func (c *cpuUse) perRequest() float64 {
	return float64(c.cpu.Microseconds()) / float64(max(c.requests, 1))
}

// vacuum runs VACUUM (ANALYZE) on the tables an inbox read reads.
func vacuum(b *testing.B, dbURL string) {
	b.Helper()
	ctx := context.Background()
	st, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool().Exec(ctx, "VACUUM (ANALYZE) notifications, events, notification_types"); err != nil {
		b.Fatal(err)
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

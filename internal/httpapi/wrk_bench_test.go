package httpapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkHTTPWrk drives the server with wrk (a load generator in C, in a
// process of its own: the Go client of the other benchmarks costs the
// machine about as much as the server), so that a CPU profile of this
// process is the server's alone:
//
//	go test -run '^$' -bench HTTPWrk -benchtime 1x -cpuprofile cpu.out ./internal/httpapi/
//
// Each iteration runs, in rounds, GET /healthz, the inbox reads (first
// page and counts, 50 users' tokens, 200 notifications each) and
// single-recipient notifies (among 100 users), each for wrkDuration at 50
// connections, and the inbox reads again at 16 connections (the latency
// of a server that is not saturated), with the scripts of bench/wrk. It needs wrk (apt-get
// install wrk); bench/http-wrk.sh measures a `cloche serve` process the
// same way.
func BenchmarkHTTPWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	const wrkDuration = "5s"
	scripts, err := filepath.Abs("../../bench/wrk")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			dbURL := backend.URL(b)
			svc := benchService(b, dbURL)
			tokens := seedInboxes(b, svc)
			_, key, err := svc.CreateAPIKey(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			// Started, as in `cloche serve`: the live feed and the workers run.
			if err := svc.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = svc.Stop(context.Background()) })
			base, _ := benchServer(b, svc)
			env := append(os.Environ(), "CLOCHE_BENCH_KEY="+key, "CLOCHE_BENCH_TOKENS="+strings.Join(tokens, " "))
			run := func(sum *wrkResult, conns int, script, path string) {
				b.Helper()
				args := []string{"-t1", fmt.Sprint("-c", conns), "-d" + wrkDuration, "--latency"}
				if script != "" {
					args = append(args, "-s", filepath.Join(scripts, script))
				}
				cmd := exec.Command(wrk, append(args, base+path)...)
				cmd.Env = env
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
				var healthz, inbox, inbox16, notify wrkResult
				for range 2 {
					settle(b, dbURL)
					run(&healthz, benchClients, "", "/healthz")
					settle(b, dbURL)
					run(&inbox, benchClients, "inbox.lua", "/api/v1/me/counts")
					settle(b, dbURL)
					run(&inbox16, 16, "inbox.lua", "/api/v1/me/counts")
					settle(b, dbURL)
					run(&notify, benchClients, "notify.lua", "/api/v1/events")
				}
				for _, r := range []struct {
					name string
					r    *wrkResult
				}{{"healthz", &healthz}, {"inbox", &inbox}, {"inbox-c16", &inbox16}, {"notify", &notify}} {
					b.ReportMetric(r.r.rate(), r.name+"-req/s")
					b.ReportMetric(r.r.p99, r.name+"-worst-p99-ms")
				}
				b.ReportMetric(100*inbox.rate()/healthz.rate(), "inbox-%-of-healthz")
				b.ReportMetric(100*notify.rate()/healthz.rate(), "notify-%-of-healthz")
			}
		})
	}
}

// wrkResult sums wrk runs: their mean rate and their worst p99.
type wrkResult struct {
	rates []float64
	p99   float64 // ms
}

func (r *wrkResult) add(o wrkRun) {
	r.rates = append(r.rates, o.rate)
	r.p99 = max(r.p99, o.p99)
}

func (r *wrkResult) rate() float64 {
	s := 0.0
	for _, x := range r.rates {
		s += x
	}
	return s / float64(len(r.rates))
}

type wrkRun struct {
	rate float64 // requests per second
	p99  float64 // ms
}

var (
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkP99     = regexp.MustCompile(`(?m)^\s+99%\s+([0-9.]+)(us|ms|s)\b`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkErrors  = regexp.MustCompile(`Socket errors: .*`)
	wrkUnitsMS = map[string]float64{"us": 0.001, "ms": 1, "s": 1000}
)

// parseWrk reads the rate and the 99th percentile of wrk --latency's
// report; answers other than 2xx, or socket errors, are failures.
func parseWrk(out string) (wrkRun, error) {
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		return wrkRun{}, fmt.Errorf("%s answers were not 2xx", m[1])
	}
	if m := wrkErrors.FindString(out); m != "" {
		return wrkRun{}, fmt.Errorf("%s", m)
	}
	rm, pm := wrkRate.FindStringSubmatch(out), wrkP99.FindStringSubmatch(out)
	if rm == nil || pm == nil {
		return wrkRun{}, fmt.Errorf("no rate or p99 in wrk's report")
	}
	rate, err1 := strconv.ParseFloat(rm[1], 64)
	p99, err2 := strconv.ParseFloat(pm[1], 64)
	if err1 != nil || err2 != nil {
		return wrkRun{}, fmt.Errorf("wrk's report: %v %v", err1, err2)
	}
	return wrkRun{rate: rate, p99: p99 * wrkUnitsMS[pm[2]]}, nil
}

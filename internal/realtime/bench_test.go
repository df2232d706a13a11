package realtime_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// Environment of the load client, a copy of the test binary run by
// BenchmarkStreams: the streams' clients live in a process of their own,
// since one process may not hold both ends of 10,000 connections under
// this machine's file limit (20,000).
const (
	envClientURL   = "CLOCHE_BENCH_CLIENT_URL"
	envClientUsers = "CLOCHE_BENCH_CLIENT_USERS"
	// envStreams overrides the number of streams (default 10,000).
	envStreams = "CLOCHE_BENCH_STREAMS"
	// envHeapProfile, when set, is where BenchmarkStreams writes a heap
	// profile once the streams are open.
	envHeapProfile = "CLOCHE_BENCH_HEAP_PROFILE"
	// envCPUProfile, when set, is where BenchmarkStreams writes a CPU
	// profile of its deliveries (the notifications, not the opening).
	envCPUProfile = "CLOCHE_BENCH_CPU_PROFILE"
	// envOpenProfile, when set, is where it writes a CPU profile of the
	// streams' opening.
	envOpenProfile = "CLOCHE_BENCH_OPEN_PROFILE"
)

// maxIterations bounds the notifications one benchmark run sends.
const maxIterations = 100

// BenchmarkStreams opens 10,000 streams, one per user, on one server over
// loopback, then each iteration sends one notification to a group of all
// of them and measures, for every stream, the time from the call of
// Notify to the notification's arrival at the client. The baseline beside
// it is the time Notify takes (the fan-out's insert and commit). It also
// reports the streams opened per second, the live heap and goroutine
// stacks per open stream, and the goroutines per open stream
// (bench/streams measures a real server's RSS).
//
//	go test -run '^$' -bench Streams -benchtime 5x ./internal/realtime/
func BenchmarkStreams(b *testing.B) {
	raiseFileLimit(b)
	n := 10000
	if s := os.Getenv(envStreams); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for _, backend := range testdb.Backends() {
		b.Run(fmt.Sprintf("%s/%dk", backend.Name, n/1000), func(b *testing.B) {
			benchStreams(b, backend.URL(b), n)
		})
	}
}

func benchStreams(b *testing.B, url string, n int) {
	ctx := context.Background()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	svc, err := cloche.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer svc.Stop(ctx)
	var dir strings.Builder
	dir.WriteString(`{"users": [`)
	for i := range n {
		if i > 0 {
			dir.WriteByte(',')
		}
		fmt.Fprintf(&dir, `{"id": "u%d", "groups": ["everyone"]}`, i)
	}
	dir.WriteString(`]}`)
	if _, err := svc.ImportDirectory(ctx, strings.NewReader(dir.String())); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream/{user}", func(w http.ResponseWriter, r *http.Request) {
		svc.Streamer().ServeStream(w, r, r.PathValue("user"))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	if srv.Listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	srv.Start()
	defer srv.Close()

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()
	client := exec.Command(os.Args[0], "-test.run=^TestStreamLoadClient$", "-test.v")
	client.Env = append(os.Environ(), envClientURL+"="+srv.URL, envClientUsers+"="+strconv.Itoa(n))
	client.Stderr = os.Stderr
	stdin, err := client.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := client.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stopOpenProfile := func() {}
	if path := os.Getenv(envOpenProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		stopOpenProfile = func() { pprof.StopCPUProfile(); f.Close() }
	}
	opening := time.Now() // the client's start is in it: a few ms
	if err := client.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		stdin.Close()
		client.Wait()
	}()
	lines := bufio.NewScanner(stdout)
	readLine := func(prefix string) []string {
		b.Helper()
		for lines.Scan() {
			if f := strings.Fields(lines.Text()); len(f) > 0 && f[0] == prefix {
				return f[1:]
			}
		}
		b.Fatalf("load client ended before %q: %v", prefix, lines.Err())
		return nil
	}
	readLine("ready")
	subscribeRate := float64(n) / time.Since(opening).Seconds()
	stopOpenProfile()
	if open := svc.Streamer().OpenStreams(); open != n {
		b.Fatalf("%d streams open, want %d", open, n)
	}
	// What the open streams hold, live after a collection: the heap and
	// the goroutines' stacks, per stream.
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	perStream := func(a, b uint64) float64 { return (float64(a) - float64(b)) / 1024 / float64(n) }
	heapKiB, stackKiB := perStream(after.HeapInuse, before.HeapInuse), perStream(after.StackInuse, before.StackInuse)
	goroutinesPer := float64(runtime.NumGoroutine()-goroutines) / float64(n)
	if path := os.Getenv(envHeapProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.WriteHeapProfile(f); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}

	if path := os.Getenv(envCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	var insert, p50, p99, worst time.Duration
	iters := 0
	for b.Loop() {
		if iters == maxIterations {
			b.Fatalf("more than %d iterations", maxIterations)
		}
		sent := time.Now()
		fmt.Fprintf(stdin, "go %d %d\n", iters, sent.UnixNano())
		res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "bench-" + strconv.Itoa(iters)},
			cloche.Recipients{GroupNames: []string{"everyone"}})
		insert += time.Since(sent)
		if err != nil || res.Reached[cloche.ChannelMessage] != n {
			b.Fatalf("notify: %v %v", res, err)
		}
		f := readLine("done")
		if len(f) != 4 || f[0] != strconv.Itoa(iters) {
			b.Fatalf("load client: done %v", f)
		}
		q := make([]time.Duration, 3)
		for i := range q {
			ns, _ := strconv.ParseInt(f[i+1], 10, 64)
			q[i] = time.Duration(ns)
		}
		p50, p99, worst = p50+q[0], p99+q[1], max(worst, q[2])
		iters++
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / float64(iters) }
	b.ReportMetric(ms(insert), "notify-ms")
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(float64(worst)/float64(time.Millisecond), "max-ms")
	b.ReportMetric(float64(p99)/float64(insert), "p99/notify")
	b.ReportMetric(heapKiB, "heap-KiB/stream")
	b.ReportMetric(stackKiB, "stack-KiB/stream")
	b.ReportMetric(goroutinesPer, "goroutines/stream")
	b.ReportMetric(subscribeRate, "streams/s")
}

// raiseFileLimit lifts the soft limit on open files to the hard one.
func raiseFileLimit(tb testing.TB) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
}

// TestStreamLoadClient is BenchmarkStreams's load client, run in a process
// of its own; it skips otherwise. It opens one stream per user, says
// "ready" once each has its first event, then for each "go ITER SENT" on
// its standard input waits for notification bench-ITER on every stream
// and says "done ITER P50 P99 MAX" (nanoseconds from SENT).
func TestStreamLoadClient(t *testing.T) {
	base := os.Getenv(envClientURL)
	if base == "" {
		t.Skip("run by BenchmarkStreams")
	}
	raiseFileLimit(t)
	n, _ := strconv.Atoi(os.Getenv(envClientUsers))
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: n, DisableCompression: true, ForceAttemptHTTP2: false,
	}}
	var recv [maxIterations][]atomic.Int64
	var got [maxIterations]atomic.Int64
	for i := range recv {
		recv[i] = make([]atomic.Int64, n)
	}
	complete := make(chan int, maxIterations)
	var ready sync.WaitGroup
	ready.Add(n)
	dial := make(chan struct{}, 100) // connections being opened at once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range n {
		go func() {
			dial <- struct{}{}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/stream/u%d", base, i), nil)
			resp, err := client.Do(req)
			<-dial
			if err != nil || resp.StatusCode != http.StatusOK {
				fmt.Fprintf(os.Stderr, "stream u%d: %v %v\n", i, err, resp)
				os.Exit(1)
			}
			defer resp.Body.Close()
			r := bufio.NewReaderSize(resp.Body, 4096)
			first := true
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					if err != io.EOF && ctx.Err() == nil {
						fmt.Fprintf(os.Stderr, "stream u%d: %v\n", i, err)
					}
					return
				}
				data, ok := strings.CutPrefix(string(line), "data: ")
				if !ok {
					continue
				}
				if first {
					first = false
					ready.Done()
				}
				_, title, ok := strings.Cut(data, `"title":"bench-`)
				if !ok {
					continue
				}
				end := strings.IndexByte(title, '"')
				iter, err := strconv.Atoi(title[:end])
				if err != nil || iter >= maxIterations {
					continue
				}
				if recv[iter][i].CompareAndSwap(0, time.Now().UnixNano()) && got[iter].Add(1) == int64(n) {
					complete <- iter
				}
			}
		}()
	}
	ready.Wait()
	fmt.Println("ready")
	sent := map[int]int64{}
	done := map[int]bool{}
	report := func(iter int) {
		lat := make([]int64, n)
		for i := range lat {
			lat[i] = recv[iter][i].Load() - sent[iter]
		}
		slices.Sort(lat)
		fmt.Printf("done %d %d %d %d\n", iter, lat[n/2], lat[n*99/100], lat[n-1])
	}
	in := bufio.NewScanner(os.Stdin)
	lines := make(chan string)
	go func() {
		for in.Scan() {
			lines <- in.Text()
		}
		close(lines)
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return
			}
			var iter int
			var at int64
			if _, err := fmt.Sscanf(line, "go %d %d", &iter, &at); err != nil {
				t.Fatalf("bad line %q", line)
			}
			sent[iter] = at
			if done[iter] {
				report(iter)
			}
		case iter := <-complete:
			done[iter] = true
			if _, ok := sent[iter]; ok {
				report(iter)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no progress for 60s")
		}
	}
}

// Command streams measures the live fan-out of a real `cloche serve`: it
// loads N users into one group, opens one stream per user over HTTP
// (GET /api/v1/me/stream, each with that user's own token), then sends
// notifications to the group (POST /api/v1/events with an API key) and
// records, for every stream, when the notification arrived and when the
// unread counts that include it did. It prints, per binary:
//
//   - subscribe/s: streams opened per second (from the first request to
//     every stream's first event, DIAL requests at a time);
//   - KiB/stream: the server's RSS after the streams opened, less its RSS
//     before, over N;
//   - notify-ms (the baseline): the POST's own time, the fan-out's commit;
//   - first, p50, p99, max: the notification's arrival at the streams,
//     from the POST's start; counts-p99: the counts that include it;
//   - cpu-ms: the server's CPU time (/proc/PID/stat) from the POST until
//     a second after every stream had it and its counts, which the machine's load
//     disturbs less than latencies; sub-µs: its CPU per stream opened.
//
// Given several binaries, it runs them in alternation, ROUNDS times, and
// prints medians with each one's ratio to the first (the same run's
// baseline). bench/streams.sh builds main's binary and this tree's.
//
//	go run ./bench/streams -bin main=/tmp/cloche-main -bin new=/tmp/cloche -n 10000
//	go run ./bench/streams -bin new=/tmp/cloche -database-url postgres://postgres@127.0.0.1:5432/test
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/auth"
)

type binFlag []string

func (b *binFlag) String() string     { return strings.Join(*b, ",") }
func (b *binFlag) Set(v string) error { *b = append(*b, v); return nil }

// secret signs the users' tokens (auth.token_secret of the servers).
const secret = "bench-streams-secret-0123456789abcdef"

// settings of one run.
type settings struct {
	n, notifies, dial int
	dbURL             string
}

// result of one run of one binary.
type result struct {
	subscribeRate float64 // streams/s
	kib           float64 // RSS per open stream
	rssClosed     float64 // MiB, after the streams closed
	notify        []float64
	first, p50    []float64
	p99, worst    []float64
	countsP99     []float64
	subCPU        float64   // server CPU per stream opened, µs
	cpu           []float64 // server CPU per notification delivered to every stream, ms
}

func main() {
	var bins binFlag
	flag.Var(&bins, "bin", "NAME=PATH of a cloche binary (repeat; the first is the baseline)")
	n := flag.Int("n", 10000, "users, one stream each")
	notifies := flag.Int("notifies", 3, "notifications to the group per run")
	rounds := flag.Int("rounds", 1, "runs of each binary, in alternation")
	dial := flag.Int("dial", 100, "streams being opened at once")
	dbURL := flag.String("database-url", "", "a PostgreSQL URL: each run gets a fresh database on that server (default: a fresh SQLite file)")
	flag.Parse()
	if len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "streams: give -bin NAME=PATH at least once")
		os.Exit(2)
	}
	raiseFileLimit()
	s := settings{n: *n, notifies: *notifies, dial: *dial, dbURL: *dbURL}
	type named struct {
		name, path string
		res        []*result
	}
	var all []*named
	for _, b := range bins {
		name, path, ok := strings.Cut(b, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "streams: -bin %q: want NAME=PATH\n", b)
			os.Exit(2)
		}
		all = append(all, &named{name: name, path: path})
	}
	for round := range *rounds {
		for i, b := range all {
			r, err := run(b.path, s, fmt.Sprintf("%d_%d_%d", os.Getpid(), round, i))
			if err != nil {
				fmt.Fprintf(os.Stderr, "streams: %s: %v\n", b.name, err)
				os.Exit(1)
			}
			b.res = append(b.res, r)
			fmt.Printf("round %d %-8s subscribe %6.0f/s (%.0f µs CPU each)  %5.1f KiB/stream  closed %4.0f MiB  notify-ms %s  first %s  p50 %s  p99 %s  max %s  counts-p99 %s  server-cpu-ms %s  (load %s)\n",
				round+1, b.name, r.subscribeRate, r.subCPU, r.kib, r.rssClosed, list(r.notify), list(r.first), list(r.p50), list(r.p99), list(r.worst), list(r.countsP99), list(r.cpu), loadAvg())
		}
	}
	fmt.Println()
	fmt.Printf("%-8s %12s %11s %10s %8s %8s %8s %8s %10s %10s %8s %8s\n", "binary", "subscribe/s", "KiB/stream", "notify-ms", "first", "p50", "p99", "max", "counts-p99", "p99/notify", "cpu-ms", "sub-µs")
	var base []float64
	for i, b := range all {
		var sub, kib, notify, first, p50, p99, worst, counts, cpu, subCPU []float64
		for _, r := range b.res {
			sub, kib = append(sub, r.subscribeRate), append(kib, r.kib)
			cpu, subCPU = append(cpu, r.cpu...), append(subCPU, r.subCPU)
			notify, first, p50 = append(notify, r.notify...), append(first, r.first...), append(p50, r.p50...)
			p99, worst, counts = append(p99, r.p99...), append(worst, r.worst...), append(counts, r.countsP99...)
		}
		row := []float64{median(sub), median(kib), median(notify), median(first), median(p50), median(p99), median(worst), median(counts), median(cpu), median(subCPU)}
		fmt.Printf("%-8s %12.0f %11.1f %10.1f %8.1f %8.1f %8.1f %8.1f %10.1f %10.2f %8.0f %8.0f\n", b.name, row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[5]/row[2], row[8], row[9])
		if i == 0 {
			base = row
			continue
		}
		fmt.Printf("%-8s %12.2f %11.2f %10.2f %8.2f %8.2f %8.2f %8.2f %10.2f %10s %8.2f %8.2f   (ratio to %s)\n", "", row[0]/base[0], row[1]/base[1], row[2]/base[2], row[3]/base[3], row[4]/base[4], row[5]/base[5], row[6]/base[6], row[7]/base[7], "", row[8]/base[8], row[9]/base[9], all[0].name)
	}
}

func list(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strings.Join(s, ",")
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return "?"
	}
	return f[0]
}

// raiseFileLimit lifts the soft limit on open files to the hard one; the
// servers started inherit it.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// server is one `cloche serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	dir    string
	config string
	bin    string
}

func (s *server) cli(args ...string) (string, error) {
	cmd := exec.Command(s.bin, append([]string{"--config", s.config}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cloche %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// freshDatabase creates an empty database on the server of url and
// returns its URL and a function dropping it.
func freshDatabase(url, name string) (string, func(), error) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", nil, err
	}
	db := "cloche_streams_" + name
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		conn.Close(ctx)
		return "", nil, err
	}
	cfg, _ := pgx.ParseConfig(url)
	fresh := strings.Replace(url, "/"+cfg.Database, "/"+db, 1)
	return fresh, func() {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		conn.Close(ctx)
	}, nil
}

func start(bin string, s settings, name string) (*server, func(), error) {
	dir, err := os.MkdirTemp("", "streams")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	dbURL := "sqlite://" + filepath.Join(dir, "cloche.db")
	if s.dbURL != "" {
		fresh, drop, err := freshDatabase(s.dbURL, name)
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		dbURL, cleanup = fresh, func() { drop(); os.RemoveAll(dir) }
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf(`database_url = %q
[log]
level = "warn"
[http]
addr = %q
[http.rate_limit]
api_key = 0
user_token = 0
[auth]
token_secret = %q
[realtime]
max_streams_per_user = 0
`, dbURL, addr, secret)
	srv := &server{base: "http://" + addr, dir: dir, config: filepath.Join(dir, "cloche.toml"), bin: bin}
	if err := os.WriteFile(srv.config, []byte(cfg), 0o600); err != nil {
		cleanup()
		return nil, nil, err
	}
	var users strings.Builder
	users.WriteString(`{"users": [`)
	for i := range s.n {
		if i > 0 {
			users.WriteByte(',')
		}
		fmt.Fprintf(&users, `{"id": "u%d", "groups": ["everyone"]}`, i)
	}
	users.WriteString(`]}`)
	if err := os.WriteFile(filepath.Join(dir, "dir.json"), []byte(users.String()), 0o600); err != nil {
		cleanup()
		return nil, nil, err
	}
	if _, err := srv.cli("migrate"); err != nil {
		cleanup()
		return nil, nil, err
	}
	if _, err := srv.cli("directory", "import", filepath.Join(dir, "dir.json")); err != nil {
		cleanup()
		return nil, nil, err
	}
	srv.cmd = exec.Command(bin, "--config", srv.config, "serve")
	srv.cmd.Stderr = os.Stderr
	if err := srv.cmd.Start(); err != nil {
		cleanup()
		return nil, nil, err
	}
	stop := func() {
		srv.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			srv.cmd.Process.Kill()
			<-done
		}
		cleanup()
	}
	return srv, stop, nil
}

var keyRE = regexp.MustCompile(`ck_[A-Za-z0-9_-]+`)

// ready polls /readyz until 200.
func (s *server) ready() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("no 200 from /readyz within a minute")
}

// rssKiB reads VmRSS of pid.
func rssKiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			x, _ := strconv.ParseFloat(f[0], 64)
			return x
		}
	}
	return 0
}

// cpuMS reads the CPU time (user and system) pid used so far, in ms.
func cpuMS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis; utime and
	// stime are the 14th and 15th of the line.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) * 10 // USER_HZ is 100
}

// streamState is what one stream's reader records.
type streamState struct {
	notified []atomic.Int64 // per notification: arrival, unix ns
	counted  []atomic.Int64 // per notification: arrival of counts with it
}

var messageRE = regexp.MustCompile(`"message":(\d+)`)

func run(bin string, s settings, name string) (*result, error) {
	srv, stop, err := start(bin, s, name)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := srv.ready(); err != nil {
		return nil, err
	}
	out, err := srv.cli("apikey", "create", "bench")
	if err != nil {
		return nil, err
	}
	key := keyRE.FindString(out)
	if key == "" {
		return nil, fmt.Errorf("no API key in %q", out)
	}
	pid := srv.cmd.Process.Pid
	tokens := make([]string, s.n)
	for i := range tokens {
		if tokens[i], _, err = auth.MintUserToken([]byte(secret), "u"+strconv.Itoa(i), time.Now(), 2*time.Hour); err != nil {
			return nil, err
		}
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: s.n, DisableCompression: true,
	}}
	time.Sleep(time.Second)
	rss0 := rssKiB(pid)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make([]streamState, s.n)
	var notified, counted []atomic.Int64
	notified, counted = make([]atomic.Int64, s.notifies), make([]atomic.Int64, s.notifies)
	progress := make(chan struct{}, 1)
	poke := func() {
		select {
		case progress <- struct{}{}:
		default:
		}
	}
	var opened sync.WaitGroup
	opened.Add(s.n)
	var failed atomic.Value
	var readers sync.WaitGroup
	dial := make(chan struct{}, s.dial)
	t0, cpu0 := time.Now(), cpuMS(pid)
	for i := range s.n {
		st := &states[i]
		st.notified, st.counted = make([]atomic.Int64, s.notifies), make([]atomic.Int64, s.notifies)
		readers.Add(1)
		go func() {
			defer readers.Done()
			dial <- struct{}{}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.base+"/api/v1/me/stream", nil)
			req.Header.Set("Authorization", "Bearer "+tokens[i])
			req.Header.Set("Accept", "text/event-stream")
			resp, err := client.Do(req)
			if err == nil && resp.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				err = fmt.Errorf("%s: %s", resp.Status, body)
			}
			if err != nil {
				<-dial
				failed.Store(fmt.Errorf("stream u%d: %w", i, err))
				opened.Done()
				return
			}
			defer resp.Body.Close()
			r := bufio.NewReaderSize(resp.Body, 4096)
			first := true
			event := ""
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					if first {
						<-dial
						failed.Store(fmt.Errorf("stream u%d: %w", i, err))
						opened.Done()
					}
					return
				}
				if ev, ok := bytes.CutPrefix(line, []byte("event: ")); ok {
					event = string(bytes.TrimSpace(ev))
					continue
				}
				data, ok := bytes.CutPrefix(line, []byte("data: "))
				if !ok {
					continue
				}
				now := time.Now().UnixNano()
				if first {
					first = false
					<-dial
					opened.Done()
				}
				switch event {
				case "notification":
					_, title, ok := bytes.Cut(data, []byte(`"title":"bench-`))
					if !ok {
						continue
					}
					end := bytes.IndexByte(title, '"')
					iter, err := strconv.Atoi(string(title[:end]))
					if err != nil || iter >= s.notifies {
						continue
					}
					if st.notified[iter].CompareAndSwap(0, now) && notified[iter].Add(1) == int64(s.n) {
						poke()
					}
				case "counts":
					m := messageRE.FindSubmatch(data)
					if m == nil {
						continue
					}
					c, _ := strconv.Atoi(string(m[1]))
					// Each notification adds one unread message.
					for iter := range min(c, s.notifies) {
						if st.counted[iter].CompareAndSwap(0, now) && counted[iter].Add(1) == int64(s.n) {
							poke()
						}
					}
				}
			}
		}()
	}
	opened.Wait()
	subscribed := time.Since(t0)
	if err, _ := failed.Load().(error); err != nil {
		return nil, err
	}
	time.Sleep(2 * time.Second)
	res := &result{subscribeRate: float64(s.n) / subscribed.Seconds(), kib: (rssKiB(pid) - rss0) / float64(s.n),
		subCPU: (cpuMS(pid) - cpu0) * 1000 / float64(s.n)}

	for iter := range s.notifies {
		body := fmt.Sprintf(`{"key": "message:internal", "title": "bench-%d", "group_names": ["everyone"]}`, iter)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		sent, cpu0 := time.Now(), cpuMS(pid)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(sent)
		if resp.StatusCode/100 != 2 {
			return nil, fmt.Errorf("notify: %s: %s", resp.Status, answer)
		}
		deadline := time.After(time.Minute)
		for notified[iter].Load() < int64(s.n) || counted[iter].Load() < int64(s.n) {
			select {
			case <-progress:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				return nil, fmt.Errorf("notification %d: %d of %d streams got it, %d its counts, within a minute",
					iter, notified[iter].Load(), s.n, counted[iter].Load())
			}
		}
		lat := make([]float64, s.n)
		clat := make([]float64, s.n)
		for i := range states {
			lat[i] = float64(states[i].notified[iter].Load()-sent.UnixNano()) / 1e6
			clat[i] = float64(states[i].counted[iter].Load()-sent.UnixNano()) / 1e6
		}
		slices.Sort(lat)
		slices.Sort(clat)
		res.notify = append(res.notify, float64(took)/1e6)
		res.first = append(res.first, lat[0])
		res.p50 = append(res.p50, lat[s.n/2])
		res.p99 = append(res.p99, lat[s.n*99/100])
		res.worst = append(res.worst, lat[s.n-1])
		res.countsP99 = append(res.countsP99, clat[s.n*99/100])
		time.Sleep(time.Second) // what follows the delivery is counted too
		res.cpu = append(res.cpu, cpuMS(pid)-cpu0)
	}
	cancel()
	readers.Wait()
	client.CloseIdleConnections()
	time.Sleep(3 * time.Second)
	res.rssClosed = rssKiB(pid) / 1024
	return res, nil
}

// Command procbench measures real `cloche serve` processes: how long one
// takes from exec to a 200 on /readyz on a fresh SQLite file, and how much
// CPU it burns doing nothing (utime + stime from /proc/<pid>/stat over the
// idle window). Given several binaries, it measures them in alternation,
// round after round, and prints medians with each one's ratio to the first
// (the same run's baseline). bench/idle.sh builds main's binary and this
// tree's and runs it.
//
//	go run ./bench/procbench -bin main=/tmp/cloche-main -bin new=/tmp/cloche -idle 60s -rounds 2
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type binFlag []string

func (b *binFlag) String() string     { return strings.Join(*b, ",") }
func (b *binFlag) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var bins binFlag
	flag.Var(&bins, "bin", "NAME=PATH of a cloche binary (repeat; the first is the baseline)")
	idle := flag.Duration("idle", 60*time.Second, "idle window measured per round and binary")
	settle := flag.Duration("settle", 5*time.Second, "wait after /readyz before the idle window")
	rounds := flag.Int("rounds", 2, "rounds of idle measures")
	starts := flag.Int("starts", 5, "start-ups measured per round and binary")
	backend := flag.String("database-url", "", "database_url for the idle measure (default: a fresh SQLite file)")
	flag.Parse()
	if len(bins) == 0 {
		fmt.Fprintln(os.Stderr, "procbench: give -bin NAME=PATH at least once")
		os.Exit(2)
	}
	type result struct {
		name, path string
		start      []time.Duration
		cpu        []float64 // share of one core, in %
	}
	var res []*result
	for _, b := range bins {
		name, path, ok := strings.Cut(b, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "procbench: -bin %q: want NAME=PATH\n", b)
			os.Exit(2)
		}
		res = append(res, &result{name: name, path: path})
	}
	for round := range *rounds {
		for _, r := range res {
			for range *starts {
				d, err := startUp(r.path)
				if err != nil {
					fail(err)
				}
				r.start = append(r.start, d)
			}
			cpu, err := idleCPU(r.path, *backend, *settle, *idle)
			if err != nil {
				fail(err)
			}
			r.cpu = append(r.cpu, cpu)
			fmt.Printf("round %d %-8s idle %.3f %% of a core over %s; start-ups %v\n", round+1, r.name, cpu, *idle, r.start[len(r.start)-*starts:])
		}
	}
	fmt.Println()
	fmt.Printf("%-8s %18s %10s %16s %10s\n", "binary", "start-up (median)", "ratio", "idle CPU (median)", "ratio")
	for _, r := range res {
		fmt.Printf("%-8s %18s %9.2fx %15.3f%% %9.2fx\n", r.name, median(r.start).Round(time.Millisecond/10),
			float64(median(r.start))/float64(median(res[0].start)), medianF(r.cpu), medianF(r.cpu)/medianF(res[0].cpu))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "procbench:", err)
	os.Exit(1)
}

// server is a running `cloche serve`.
type server struct {
	cmd  *exec.Cmd
	addr string
	dir  string
}

// start runs bin's serve on a fresh SQLite file (or dbURL) and a free port.
func start(bin, dbURL string) (*server, error) {
	dir, err := os.MkdirTemp("", "procbench")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(dir, "cloche.db")
	}
	cfg := fmt.Sprintf("database_url = %q\n[log]\nlevel = \"warn\"\n[http]\naddr = %q\n", dbURL, addr)
	if err := os.WriteFile(filepath.Join(dir, "cloche.toml"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", filepath.Join(dir, "cloche.toml"), "serve")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &server{cmd: cmd, addr: addr, dir: dir}, nil
}

// ready polls /readyz every millisecond until 200.
func (s *server) ready() error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := client.Get("http://" + s.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("no 200 from /readyz within a minute")
}

func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(s.dir)
}

// startUp is the time from exec to /readyz's 200 on a fresh SQLite file.
func startUp(bin string) (time.Duration, error) {
	t0 := time.Now()
	s, err := start(bin, "")
	if err != nil {
		return 0, err
	}
	defer s.stop()
	if err := s.ready(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// idleCPU is the CPU a serving process burns over idle, in % of a core.
func idleCPU(bin, dbURL string, settle, idle time.Duration) (float64, error) {
	s, err := start(bin, dbURL)
	if err != nil {
		return 0, err
	}
	defer s.stop()
	if err := s.ready(); err != nil {
		return 0, err
	}
	time.Sleep(settle)
	t0, err := cpuTicks(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	w0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), idle)
	<-ctx.Done()
	cancel()
	t1, err := cpuTicks(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	// Linux counts in USER_HZ, 100 a second.
	return 100 * float64(t1-t0) / 100 / time.Since(w0).Seconds(), nil
}

// cpuTicks reads utime + stime of pid.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: fields count from after its ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return utime + stime, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

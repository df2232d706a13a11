// Command pginsert is the raw write baseline of bench/pg-writes.sh: a
// pgbench-style loop of single-row INSERT transactions, each committed
// (durably, as the server's synchronous_commit says) before the next, from
// CONNECTIONS goroutines with a connection each, for DURATION. It prints
// the rate and the latency percentiles on one line:
//
//	raw-insert   12345 tx/s   p50 3.1ms   p99 9.8ms
//
// It writes to a table of its own (cloche_bench_raw), created if missing.
//
//	go run ./bench/pginsert -url postgres://... -c 50 -d 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	url := flag.String("url", os.Getenv("DB_URL"), "PostgreSQL URL")
	conns := flag.Int("c", 50, "concurrent clients (one connection each)")
	dur := flag.Duration("d", 10*time.Second, "how long to run")
	name := flag.String("name", "raw-insert", "label of the output line")
	flag.Parse()
	if err := run(context.Background(), *url, *conns, *dur, *name); err != nil {
		fmt.Fprintln(os.Stderr, "pginsert:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url string, conns int, dur time.Duration, name string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS cloche_bench_raw (
    id bigserial PRIMARY KEY, client int NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	// Warm every connection (and its prepared statement) before timing.
	var wg sync.WaitGroup
	lat := make([][]time.Duration, conns)
	errs := make([]error, conns)
	start := make(chan struct{})
	deadline := time.Now().Add(dur)
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pool.Acquire(ctx)
			if err != nil {
				errs[c] = err
				return
			}
			defer conn.Release()
			const q = `INSERT INTO cloche_bench_raw (client, payload) VALUES ($1, $2)`
			if _, err := conn.Exec(ctx, q, c, "warm-up"); err != nil {
				errs[c] = err
				return
			}
			<-start
			for i := 0; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				if _, err := conn.Exec(ctx, q, c, fmt.Sprintf("row %d of client %d", i, c)); err != nil {
					errs[c] = err
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
	t0 := time.Now()
	deadline = t0.Add(dur)
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return fmt.Errorf("no transaction completed")
	}
	pct := func(p float64) time.Duration { return all[int(p*float64(len(all)-1))].Round(10 * time.Microsecond) }
	fmt.Printf("%-12s %10.0f tx/s    p50 %8s   p99 %8s\n", name, float64(len(all))/elapsed.Seconds(), pct(0.5), pct(0.99))
	return nil
}

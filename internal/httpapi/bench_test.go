package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

// The benchmarks drive a real server on 127.0.0.1 with a load generator in
// the same process (so the two share the machine's cores), and run a
// baseline in the same run: the same operations through the Go API
// in-process, and a trivial route (GET /healthz) through the same server
// and client. Each iteration is a fixed number of requests.
//
//	go test -run '^$' -bench 'HTTP' -benchtime 1x -count 3 ./internal/httpapi/

const benchClients = 50

// loadResult is what load runs measured, summed over rounds.
type loadResult struct {
	n       int
	elapsed time.Duration
	lat     []time.Duration
}

func (r loadResult) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func (r *loadResult) p99() time.Duration {
	slices.Sort(r.lat)
	return r.lat[len(r.lat)*99/100]
}

// load runs n calls of fn from clients goroutines and adds their
// measures to r; fn gets the worker's number and the call's.
func load(b *testing.B, r *loadResult, n, clients int, fn func(worker, i int) error) {
	b.Helper()
	lat := make([][]time.Duration, clients)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/clients+1)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					break
				}
				t0 := time.Now()
				if err := fn(w, i); err != nil {
					failed.Store(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			lat[w] = mine
		}()
	}
	wg.Wait()
	r.elapsed += time.Since(start)
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	r.n += n
	r.lat = append(r.lat, slices.Concat(lat...)...)
}

// settle lets the database finish what the previous round left (WAL
// checkpoint on SQLite, CHECKPOINT on PostgreSQL) with the timer stopped,
// so that one side's writes are not billed to the next side.
func settle(b *testing.B, dbURL string) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ctx := context.Background()
	if sqlite.IsURL(dbURL) {
		st, err := sqlite.Open(ctx, dbURL, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			b.Fatal(err)
		}
		return
	}
	st, err := postgres.Open(ctx, dbURL, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool().Exec(ctx, "CHECKPOINT"); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
}

// benchServer serves svc on a loopback port as `cloche serve` does, with
// access logs written (as text, to nowhere), metrics observed, and no rate
// limits.
func benchServer(b *testing.B, svc *cloche.Service) (string, *http.Client) {
	b.Helper()
	srv, err := New(svc, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * benchClients, MaxIdleConnsPerHost: 2 * benchClients,
		IdleConnTimeout: time.Minute}}
	b.Cleanup(client.CloseIdleConnections)
	return "http://" + ln.Addr().String(), client
}

// benchOptions are serve's: access logs (as text, to nowhere) and metrics.
func benchOptions() Options {
	return Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()}
}

func benchService(b *testing.B, dbURL string) *cloche.Service {
	b.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.HTTP.RateLimit.APIKey, cfg.HTTP.RateLimit.UserToken = 0, 0
	// The service's own logs at info, as serve's, to nowhere.
	svc, err := cloche.Open(context.Background(), cfg, cloche.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { svc.Close() })
	return svc
}

// call sends one request and drains the answer, which must have status.
func call(client *http.Client, method, url, token string, body []byte, status int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != status {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, out)
	}
	return nil
}

func report(b *testing.B, name string, r *loadResult) {
	b.ReportMetric(r.rate(), name+"-req/s")
	b.ReportMetric(float64(r.p99().Microseconds())/1000, name+"-p99-ms")
}

// rounds is how many times each side runs, alternately, per iteration.
const rounds = 4

// BenchmarkHTTPNotify: single-recipient POST /api/v1/events from 50
// concurrent clients, beside Service.Notify from 50 goroutines in-process
// and GET /healthz through the same server.
func BenchmarkHTTPNotify(b *testing.B) {
	const requests = 20000
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			dbURL := backend.URL(b)
			svc := benchService(b, dbURL)
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "1"}); err != nil {
				b.Fatal(err)
			}
			_, key, err := svc.CreateAPIKey(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			base, client := benchServer(b, svc)
			body := []byte(`{"key": "message:internal", "title": "Hello", "body": "A notification to one user.", "user_ids": [1]}`)
			for b.Loop() {
				var api, trivial, httpNotify loadResult
				for range rounds {
					settle(b, dbURL)
					load(b, &trivial, requests/rounds, benchClients, func(_, _ int) error {
						return call(client, "GET", base+"/healthz", "", nil, http.StatusOK)
					})
					settle(b, dbURL)
					load(b, &api, requests/rounds, benchClients, func(_, _ int) error {
						_, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Hello", Body: "A notification to one user."},
							cloche.Recipients{UserIDs: []string{"1"}})
						return err
					})
					settle(b, dbURL)
					load(b, &httpNotify, requests/rounds, benchClients, func(_, _ int) error {
						return call(client, "POST", base+"/api/v1/events", key, body, http.StatusCreated)
					})
				}
				report(b, "http-notify", &httpNotify)
				report(b, "go-notify", &api)
				report(b, "healthz", &trivial)
				b.ReportMetric(100*httpNotify.rate()/api.rate(), "%-of-go-api")
				b.ReportMetric(100*httpNotify.rate()/trivial.rate(), "%-of-healthz")
			}
		})
	}
}

// BenchmarkHTTPInbox: GET /api/v1/me/notifications (first page of 20) and
// GET /api/v1/me/counts, alternately, from 50 clients each with the token
// of its own user, among 100 users with 200 notifications each; beside
// Service.Inbox and Service.UnreadCounts in-process, and GET /healthz.
func BenchmarkHTTPInbox(b *testing.B) {
	const requests = 40000
	ctx := context.Background()
	for _, backend := range testdb.Backends() {
		b.Run(backend.Name, func(b *testing.B) {
			dbURL := backend.URL(b)
			svc := benchService(b, dbURL)
			tokens := seedInboxes(b, svc)
			base, client := benchServer(b, svc)
			for b.Loop() {
				var api, trivial, httpInbox loadResult
				for range rounds {
					settle(b, dbURL)
					load(b, &trivial, requests/rounds, benchClients, func(_, _ int) error {
						return call(client, "GET", base+"/healthz", "", nil, http.StatusOK)
					})
					settle(b, dbURL)
					load(b, &api, requests/rounds, benchClients, func(w, i int) error {
						user := strconv.Itoa(w + 1)
						if i%2 == 0 {
							_, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: user, Channel: cloche.ChannelMessage, All: true, Limit: 20})
							return err
						}
						_, err := svc.UnreadCounts(ctx, user)
						return err
					})
					settle(b, dbURL)
					load(b, &httpInbox, requests/rounds, benchClients, func(w, i int) error {
						if i%2 == 0 {
							return call(client, "GET", base+"/api/v1/me/notifications?channel=message&limit=20", tokens[w], nil, http.StatusOK)
						}
						return call(client, "GET", base+"/api/v1/me/counts", tokens[w], nil, http.StatusOK)
					})
				}
				report(b, "http-inbox", &httpInbox)
				report(b, "go-inbox", &api)
				report(b, "healthz", &trivial)
				b.ReportMetric(100*httpInbox.rate()/api.rate(), "%-of-go-api")
				b.ReportMetric(100*httpInbox.rate()/trivial.rate(), "%-of-healthz")
			}
		})
	}
}

// seedInboxes gives 100 users ("1" to "100") 200 notifications each, and
// returns the tokens of the first benchClients of them.
func seedInboxes(b *testing.B, svc *cloche.Service) []string {
	b.Helper()
	const (
		users   = 100
		perUser = 200
	)
	ctx := context.Background()
	var dir cloche.DirectoryFile
	for u := range users {
		dir.Users = append(dir.Users, cloche.UserInput{ID: cloche.ID(fmt.Sprint(u + 1)), Groups: []string{"all"}})
	}
	if _, err := svc.Import(ctx, &dir); err != nil {
		b.Fatal(err)
	}
	for i := range perUser {
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprint("n", i), Body: "Body text."},
			cloche.Recipients{GroupNames: []string{"all"}}); err != nil {
			b.Fatal(err)
		}
	}
	tokens := make([]string, benchClients)
	for w := range tokens {
		tok, _, err := svc.UserToken(ctx, fmt.Sprint(w+1), time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		tokens[w] = tok
	}
	return tokens
}

package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// wait is how long a test waits for something that should happen at once:
// long enough for a busy two-core machine, since only a failure waits it out.
const wait = 60 * time.Second

// sseEvent is one event of a stream, or a comment.
type sseEvent struct {
	ID, Event, Data string
	Comment         string // a comment line (keep-alive), alone
}

// sseClient reads one stream.
type sseClient struct {
	resp   *http.Response
	cancel context.CancelFunc
	events chan sseEvent
	ended  chan error // the body's end: io.EOF, or the error
	retry  atomic.Int64
}

// dial opens a stream at url with the given headers and fails the test
// unless the server answers 200 with an event stream.
func dial(t testing.TB, url string, header http.Header) *sseClient {
	t.Helper()
	c, resp := tryDial(t, url, header)
	if resp != nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET %s: %s %s", url, resp.Status, body)
	}
	return c
}

// tryDial opens a stream; on any answer but 200 it returns the response.
func tryDial(t testing.TB, url string, header http.Header) (*sseClient, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, resp
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q, want text/event-stream", ct)
	}
	c := &sseClient{resp: resp, cancel: cancel, events: make(chan sseEvent, 1000), ended: make(chan error, 1)}
	go c.read()
	t.Cleanup(c.close)
	return c, nil
}

// read parses the stream: fields up to a blank line make an event.
func (c *sseClient) read() {
	r := bufio.NewReader(c.resp.Body)
	var ev sseEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.ended <- err
			close(c.events)
			return
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Event != "" || len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				c.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			c.events <- sseEvent{Comment: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "id":
				ev.ID = value
			case "event":
				ev.Event = value
			case "data":
				data = append(data, value)
			case "retry":
				var ms int64
				fmt.Sscan(value, &ms)
				c.retry.Store(ms)
			}
		}
	}
}

func (c *sseClient) close() {
	c.cancel()
	c.resp.Body.Close()
}

// next returns the next event, skipping comments.
func (c *sseClient) next(t testing.TB) sseEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended while waiting for an event: %v", <-c.ended)
			}
			if ev.Comment != "" {
				continue
			}
			if ev.ID == "" {
				t.Errorf("event %q has no id", ev.Event)
			}
			return ev
		case <-deadline:
			t.Fatalf("no event within %s", wait)
		}
	}
}

// expect returns the next event, failing unless it is of kind name, and
// decodes its data into v (when not nil).
func (c *sseClient) expect(t testing.TB, name string, v any) sseEvent {
	t.Helper()
	ev := c.next(t)
	if ev.Event != name {
		t.Fatalf("event %s %s, want a %s event", ev.Event, ev.Data, name)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
			t.Fatalf("%s event data %q: %v", name, ev.Data, err)
		}
	}
	return ev
}

// skipCounts returns the next event that is not a counts event: a stream
// may send counts more often than the test expects (after catching up).
func (c *sseClient) skipCounts(t testing.TB) sseEvent {
	t.Helper()
	for {
		if ev := c.next(t); ev.Event != "counts" {
			return ev
		}
	}
}

// item reads the next notification event, skipping counts.
func (c *sseClient) item(t testing.TB) (cloche.InboxItem, sseEvent) {
	t.Helper()
	ev := c.skipCounts(t)
	if ev.Event != "notification" {
		t.Fatalf("event %s %s, want a notification", ev.Event, ev.Data)
	}
	var it cloche.InboxItem
	if err := jsonUnmarshal(ev.Data, &it); err != nil {
		t.Fatalf("notification data %q: %v", ev.Data, err)
	}
	return it, ev
}

// change reads the next change event, skipping counts.
func (c *sseClient) change(t testing.TB) cloche.NotificationChange {
	t.Helper()
	ev := c.skipCounts(t)
	if ev.Event != "change" {
		t.Fatalf("event %s %s, want a change", ev.Event, ev.Data)
	}
	var ch cloche.NotificationChange
	if err := jsonUnmarshal(ev.Data, &ch); err != nil {
		t.Fatalf("change data %q: %v", ev.Data, err)
	}
	return ch
}

// counts reads a counts event, which must come next.
func (c *sseClient) counts(t testing.TB) map[cloche.Channel]int {
	t.Helper()
	var counts map[cloche.Channel]int
	c.expect(t, "counts", &counts)
	return counts
}

// expectCounts reads counts events until they are the ones given; any
// other event before is a failure.
func (c *sseClient) expectCounts(t testing.TB, message, header, alert int) {
	t.Helper()
	want := fmt.Sprint(map[cloche.Channel]int{cloche.ChannelMessage: message, cloche.ChannelHeaderMessage: header, cloche.ChannelAlert: alert})
	for {
		got := fmt.Sprint(c.counts(t))
		if got == want {
			return
		}
		t.Logf("counts %s, waiting for %s", got, want)
	}
}

// env is a started service on a fresh database, with its streams served
// at /stream/{user} by a real listener.
type env struct {
	t   *testing.T
	url string // of the database
	cfg cloche.Config
	svc atomic.Pointer[cloche.Service]
	srv *httptest.Server
}

// forEachBackend runs fn on a fresh SQLite database and a fresh
// PostgreSQL schema, in parallel.
func forEachBackend(t *testing.T, fn func(t *testing.T, b testdb.Backend)) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// newEnv starts a service on url, loads a small directory (users 1 to 4,
// the first three in group "team") and serves its streams.
func newEnv(t *testing.T, url string, mod func(*cloche.Config)) *env {
	t.Helper()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	cfg.Realtime.KeepAlive = cloche.Duration(time.Hour)
	if mod != nil {
		mod(&cfg)
	}
	e := &env{t: t, url: url, cfg: cfg}
	e.restart()
	_, err := e.service().ImportDirectory(context.Background(), strings.NewReader(`{"users": [
		{"id": "1", "groups": ["team"]}, {"id": "2", "groups": ["team"]},
		{"id": "3", "groups": ["team"]}, {"id": "4"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream/{user}", func(w http.ResponseWriter, r *http.Request) {
		e.service().Streamer().ServeStream(w, r, r.PathValue("user"))
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) service() *cloche.Service { return e.svc.Load() }

// restart stops and closes the running service, if any, and starts a new
// one on the same database.
func (e *env) restart() {
	e.t.Helper()
	if old := e.svc.Load(); old != nil {
		e.stop(old)
	}
	svc, err := cloche.Open(context.Background(), e.cfg, cloche.WithLogger(testLogger()))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := svc.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.svc.Store(svc)
	e.t.Cleanup(func() {
		if e.svc.Load() == svc {
			e.stop(svc)
		}
	})
}

func (e *env) stop(svc *cloche.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := svc.Stop(ctx); err != nil {
		e.t.Errorf("stop: %v", err)
	}
	if err := svc.Close(); err != nil {
		e.t.Errorf("close: %v", err)
	}
}

// stream opens user's stream, and reads the counts every stream starts
// with.
func (e *env) stream(user string, header http.Header) (*sseClient, map[cloche.Channel]int) {
	e.t.Helper()
	c := dial(e.t, e.srv.URL+"/stream/"+user, header)
	return c, c.counts(e.t)
}

// notify sends a message to users (or to a group, "g:name") and returns
// the event id.
func (e *env) notify(title string, to ...string) int64 {
	e.t.Helper()
	var r cloche.Recipients
	for _, u := range to {
		if g, ok := strings.CutPrefix(u, "g:"); ok {
			r.GroupNames = append(r.GroupNames, g)
		} else {
			r.UserIDs = append(r.UserIDs, u)
		}
	}
	res, err := e.service().Notify(context.Background(), cloche.Notification{Key: "message:internal", Title: title, Body: "Body of " + title}, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.EventID
}

func testLogger() *slog.Logger {
	if os.Getenv("CLOCHE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func sameCounts(t testing.TB, name string, got map[cloche.Channel]int, message, header, alert int) {
	t.Helper()
	want := map[cloche.Channel]int{cloche.ChannelMessage: message, cloche.ChannelHeaderMessage: header, cloche.ChannelAlert: alert}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: counts %v, want %v", name, got, want)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func httptestRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func mustRequest(t testing.TB) *http.Request {
	t.Helper()
	return httptest.NewRequest(http.MethodGet, "/stream/", nil)
}

// skipCountsWithin is skipCounts with a deadline of its own.
func (c *sseClient) skipCountsWithin(t testing.TB, deadline time.Time) sseEvent {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("stream ended: %v", <-c.ended)
			}
			if ev.Comment != "" || ev.Event == "counts" {
				continue
			}
			return ev
		case <-timer.C:
			t.Fatalf("no event by the deadline")
		}
	}
}

// tempDir holds what the package's tests share (the cloche binary).
var tempDir string

func TestMain(m *testing.M) {
	var err error
	if tempDir, err = os.MkdirTemp("", "cloche-realtime-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tempDir)
	os.Exit(code)
}

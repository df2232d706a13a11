package realtime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/testdb"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// clocheBinary builds the cloche command once for the package's tests,
// into the folder TestMain removes.
func clocheBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(tempDir, "cloche")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, "github.com/cloche/cloche/cmd/cloche").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// runCloche runs one command of the binary on the database at url.
func runCloche(t *testing.T, url string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(clocheBinary(t), append([]string{"--database-url", url}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cloche %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// What another process writes (the command line here) reaches the open
// streams once that process has ended (within a second on an idle machine;
// the test waits longer, for a busy one).
func TestStreamHearsOtherProcesses(t *testing.T) {
	clocheBinary(t)
	forEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b.URL(t), nil)
		one, _ := e.stream("1", nil)
		two, _ := e.stream("2", nil)

		within := func(c *sseClient, name string) sseEvent {
			t.Helper()
			ev := c.skipCountsWithin(t, time.Now().Add(wait))
			if ev.Event != name {
				t.Fatalf("event %s %s, want %s", ev.Event, ev.Data, name)
			}
			return ev
		}
		runCloche(t, e.url, "notify", "-k", "message:internal", "--title", "From afar", "-g", "team")
		var ids []int64
		for _, c := range []*sseClient{one, two} {
			it, _ := decodeItem(t, within(c, "notification"))
			if it.Title != "From afar" {
				t.Errorf("item %+v, want the command line's", it)
			}
			ids = append(ids, it.ID)
		}
		runCloche(t, e.url, "inbox", "read", "1", strconv.FormatInt(ids[0], 10))
		var change struct {
			Kind           string `json:"kind"`
			NotificationID int64  `json:"notification_id"`
		}
		if err := json.Unmarshal([]byte(within(one, "change").Data), &change); err != nil ||
			change.Kind != "read" || change.NotificationID != ids[0] {
			t.Errorf("change %+v (%v), want the read mark of %d", change, err, ids[0])
		}
		one.expectCounts(t, 0, 0, 0)
		// User 2 heard nothing of user 1's read mark.
		runCloche(t, e.url, "notify", "-k", "message:system", "--title", "Second", "-u", "2")
		if it, _ := decodeItem(t, within(two, "notification")); it.Title != "Second" || it.Channel != "alert" {
			t.Errorf("user 2's next item %+v, want the alert", it)
		}
	})
}

// When the hub loses its listening connection, it listens again and the
// streams catch up with what was written meanwhile.
func TestStreamSurvivesListenerLoss(t *testing.T) {
	url := testdb.PostgresURL(t)
	e := newEnv(t, url, nil)
	c, _ := e.stream("1", nil)
	e.notify("before", "1")
	if it, _ := c.item(t); it.Title != "before" {
		t.Fatalf("item %q", it.Title)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var channel string
	if err := conn.QueryRow(ctx, `SELECT 'cloche_feed:' || current_schema()`).Scan(&channel); err != nil {
		t.Fatal(err)
	}
	listener := func() int {
		t.Helper()
		var pid int
		err := conn.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%' || $2 || '%'`,
			postgres.ListenApplicationName, channel).Scan(&pid)
		if err != nil && err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		return pid
	}
	old := listener()
	if old == 0 {
		t.Fatal("no listening connection in pg_stat_activity")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend($1)`, old); err != nil {
		t.Fatal(err)
	}
	e.notify("while it was gone", "1")
	if it, _ := c.item(t); it.Title != "while it was gone" {
		t.Fatalf("item %q, want the one written while the hub was not listening", it.Title)
	}
	deadline := time.Now().Add(wait)
	for pid := listener(); pid == 0 || pid == old; pid = listener() {
		if time.Now().After(deadline) {
			t.Fatal("the hub does not listen again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.notify("after", "1")
	if it, _ := c.item(t); it.Title != "after" {
		t.Errorf("item %q, want after", it.Title)
	}
}

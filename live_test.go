package cloche_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// The purge job empties the change log the live streams read, with the
// read retention.
func TestPurgeChangeLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var offset time.Duration
		clock := func() time.Time { return time.Now().Add(offset) }
		svc := open(t, testConfig(url), cloche.WithClock(clock))
		loadDirectory(t, svc)
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Hi"}, cloche.Recipients{UserIDs: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
		page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "1"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("inbox: %v %v", page, err)
		}
		if err := svc.MarkRead(ctx, "1", page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := svc.MarkUnread(ctx, "1", page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		var st store.Store
		if strings.HasPrefix(url, "postgres") {
			st, err = postgres.Open(ctx, url, nil)
		} else {
			st, err = sqlite.Open(ctx, url, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		logged := func() int {
			t.Helper()
			cs, err := st.ChangeList(ctx, &store.ChangeListParams{})
			if err != nil {
				t.Fatal(err)
			}
			return len(cs)
		}
		if _, err := svc.Purge(ctx); err != nil || logged() != 2 {
			t.Fatalf("early purge: %v; %d changes left, want 2", err, logged())
		}
		offset = 91 * 24 * time.Hour
		if _, err := svc.Purge(ctx); err != nil || logged() != 0 {
			t.Fatalf("purge after the retention: %v; %d changes left, want 0", err, logged())
		}
	})
}

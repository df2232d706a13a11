package cloche_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// Several services on one PostgreSQL database each run the workers; every
// scheduled event is still published exactly once.
func TestScheduledEventsPublishedOnceAcrossServices(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(testdb.PostgresURL(t))
	services := []*cloche.Service{open(t, cfg), open(t, cfg), open(t, cfg)}
	loadDirectory(t, services[0])
	for _, svc := range services {
		start(t, svc)
	}
	due := time.Now().Add(time.Hour) // made due once every notify is done
	var ids []int64
	for i := range 30 {
		res, err := services[i%3].Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprint(i), DueAt: &due},
			cloche.Recipients{GroupNames: []string{"manager", "member"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.EventID)
	}
	testdb.MakeDue(t, cfg.DatabaseURL, ids...)
	for _, id := range ids {
		ev := waitStatus(t, services[0], id, time.Minute)
		if ev.Status != cloche.EventPublished || ev.Counts[cloche.ChannelMessage] != 5 {
			t.Fatalf("event %d: %s %v", id, ev.Status, ev.Counts)
		}
	}
	for _, user := range []string{"1", "2", "3", "5", "6"} {
		if n := count(t, services[0], user, cloche.ChannelMessage, true); n != 30 {
			t.Errorf("user %s has %d notifications, want 30 (one per event)", user, n)
		}
	}
}

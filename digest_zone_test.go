package cloche_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// TestDigestZoneFromDirectory: a time zone changed by the user API, a
// directory import or a directory sync moves the person's next digest at
// once (not only a preference change or the next run). alice, bob and
// carol, on a daily digest at a time two hours from now in UTC, move to
// Asia/Kolkata (5:30 ahead) by each path: their digest then falls due
// 20:30 from now; frank, who stays in UTC, gets his in two hours. Both
// backends.
func TestDigestZoneFromDirectory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clock := &offsetClock{}
		svc := open(t, testConfig(url), cloche.WithClock(clock.now))
		loadDirectory(t, svc)
		daily := &cloche.DigestSchedule{Frequency: "daily", At: clock.now().UTC().Add(2 * time.Hour).Format("15:04")}
		people := []string{"1", "2", "3", "6"}
		for _, id := range people {
			if _, err := svc.SetPreferences(ctx, id, nil, cloche.WithTimeZone("UTC"),
				cloche.WithDigests(&cloche.DigestChange{Digest: daily})); err != nil {
				t.Fatalf("user %s: %v", id, err)
			}
		}
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Devis"},
			cloche.Recipients{UserIDs: people}); err != nil {
			t.Fatal(err)
		}

		// The user API.
		if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "1", Email: "alice@example.org", Name: "Alice",
			Locale: "fr", TimeZone: "Asia/Kolkata"}); err != nil {
			t.Fatal(err)
		}
		// An import.
		if _, err := svc.ImportDirectory(ctx, stringsReader(`{"users": [
			{"id": "2", "email": "bob@example.org", "name": "Bob", "locale": "en", "time_zone": "Asia/Kolkata"}]}`)); err != nil {
			t.Fatal(err)
		}
		// A sync of the whole directory where only carol's zone changed.
		var snap cloche.DirectorySnapshot
		if err := json.Unmarshal([]byte(directoryJSON), &snap); err != nil {
			t.Fatal(err)
		}
		for i, u := range *snap.Users {
			if string(u.ID) == "3" {
				(*snap.Users)[i].TimeZone = "Asia/Kolkata"
			}
		}
		if _, err := svc.SyncDirectory(ctx, &snap); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"1", "2", "3"} {
			if p, err := svc.Preferences(ctx, id); err != nil || p.TimeZone != "Asia/Kolkata" {
				t.Fatalf("user %s: zone %q, %v", id, p.TimeZone, err)
			}
		}

		clock.add(2*time.Hour + time.Minute)
		if run, err := svc.RunDigests(ctx); err != nil || run.Schedules != 1 || run.Digests != 1 {
			t.Errorf("two hours on: %+v %v, want frank's digest alone", run, err)
		}
		clock.add(18*time.Hour + 30*time.Minute)
		if run, err := svc.RunDigests(ctx); err != nil || run.Schedules != 3 || run.Digests != 3 {
			t.Errorf("20:31 on: %+v %v, want the three who moved to Asia/Kolkata", run, err)
		}
	})
}

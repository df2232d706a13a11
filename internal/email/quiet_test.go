package email_test

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// clock is a time the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time   { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)  { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func mustTime(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
func byUser(ds []cloche.Delivery) map[string]cloche.Delivery {
	out := map[string]cloche.Delivery{}
	for _, d := range ds {
		out[d.UserID] = d
	}
	return out
}

// TestQuietHoursHoldEmail: during Bob's quiet hours (21:00–08:00 in
// Europe/Paris, on the night clocks spring forward, 28 March 2027) his
// e-mail is held until 08:00 CEST while Alice's leaves at once; the
// event's report says "quiet hours pending"; a sending job is scheduled
// for the window's end; moving the clock there sends it. A mandatory type
// is not held.
func TestQuietHoursHoldEmail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		srv := smtptest.Start(t, smtptest.Options{})
		clk := &clock{now: mustTime("2027-03-27T21:30:00Z")} // 22:30 in Paris, in the future
		svc := open(t, config(url, srv), cloche.WithClock(clk.Now))
		loadDirectory(t, svc)
		start(t, svc)
		_, err := svc.UpdatePreferences(ctx, "2", nil, cloche.WithTimeZone("Europe/Paris"),
			cloche.WithQuietHours(&cloche.QuietHours{Start: "21:00", End: "08:00"}))
		if err != nil {
			t.Fatal(err)
		}

		res := notify(t, svc, cloche.Notification{Title: "Facture F-1"}, cloche.Recipients{UserIDs: []string{"1", "2"}})
		ds := byUser(waitDeliveries(t, svc, res.EventID, 60*time.Second, "alice sent, bob held", func(d cloche.Delivery) bool {
			return (d.UserID == "1" && d.State == cloche.DeliverySent) || (d.UserID == "2" && d.State == cloche.DeliveryQueued)
		}))
		bob := ds["2"]
		if bob.HoldReason != "quiet_hours" || bob.NotBefore == nil || !bob.NotBefore.Equal(mustTime("2027-03-28T06:00:00Z")) {
			t.Fatalf("bob's delivery %+v, want held for quiet hours until 08:00 CEST (06:00Z)", bob)
		}
		held, err := svc.HeldEmails(ctx, res.EventID, 10)
		if err != nil || len(held) != 1 || held[0].UserID != "2" || held[0].Reason != "quiet_hours" {
			t.Fatalf("held e-mails %+v %v", held, err)
		}

		// The sender wakes when the window ends.
		waitScheduled(t, url, "2027-03-28", "06:00:00")

		// A mandatory type ignores quiet hours.
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "security:alert", DefaultChannel: cloche.ChannelEmail},
			cloche.Mandatory(true)); err != nil {
			t.Fatal(err)
		}
		urgent := notify(t, svc, cloche.Notification{Key: "security:alert", Title: "Password changed"}, cloche.Recipients{UserIDs: []string{"2"}})
		waitDeliveries(t, svc, urgent.EventID, 60*time.Second, "sent at once", inState(cloche.DeliverySent))

		// The window ends: the e-mail leaves.
		clk.Set(mustTime("2027-03-28T06:00:00Z"))
		if err := svc.SendDueEmail(ctx); err != nil {
			t.Fatal(err)
		}
		waitDeliveries(t, svc, res.EventID, 60*time.Second, "sent", inState(cloche.DeliverySent))
		if held, _ := svc.HeldEmails(ctx, res.EventID, 10); len(held) != 0 {
			t.Errorf("still held: %+v", held)
		}
	})
}

// TestEmailIfUnread: with a type's unread delay of 30 minutes, the in-app
// notification goes at once and the e-mail waits; Alice reads hers in the
// app, so hers is skipped; Bob's leaves when the delay ends.
func TestEmailIfUnread(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		srv := smtptest.Start(t, smtptest.Options{})
		t0 := mustTime("2027-06-10T10:00:00Z") // in the future: the scheduled wake-up waits
		clk := &clock{now: t0}
		svc := open(t, config(url, srv), cloche.WithClock(clk.Now))
		loadDirectory(t, svc)
		start(t, svc)
		if _, err := svc.SetType(ctx, cloche.NotificationType{Key: "message:internal"}, cloche.EmailIfUnread(30)); err != nil {
			t.Fatal(err)
		}
		// Everybody gets message:internal in the bell and by e-mail.
		on := true
		if _, err := svc.SetDefaultPreferences(ctx, []cloche.PreferenceSetting{
			{Type: "message:internal", Channel: cloche.ChannelEmail, Enabled: &on}}); err != nil {
			t.Fatal(err)
		}
		res := notify(t, svc, cloche.Notification{Key: "message:internal", Title: "Lunch?"}, cloche.Recipients{UserIDs: []string{"1", "2"}})
		if res.Reached[cloche.ChannelMessage] != 2 || res.Reached[cloche.ChannelEmail] != 2 {
			t.Fatalf("reached %v", res.Reached)
		}
		for _, d := range deliveries(t, svc, res.EventID) {
			if d.State != cloche.DeliveryQueued || d.HoldReason != "unread" || d.NotBefore == nil || !d.NotBefore.Equal(t0.Add(30*time.Minute)) {
				t.Fatalf("delivery %+v, want held 30 minutes unless read", d)
			}
		}
		page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "1"})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("alice's inbox %+v %v", page, err)
		}
		clk.Set(t0.Add(10 * time.Minute))
		if err := svc.MarkRead(ctx, "1", page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		clk.Set(t0.Add(30 * time.Minute))
		if err := svc.SendDueEmail(ctx); err != nil {
			t.Fatal(err)
		}
		ds := byUser(waitDeliveries(t, svc, res.EventID, 60*time.Second, "alice skipped, bob sent", func(d cloche.Delivery) bool {
			return (d.UserID == "1" && d.State == cloche.DeliverySkipped) || (d.UserID == "2" && d.State == cloche.DeliverySent)
		}))
		if ds["1"].LastMessage == "" {
			t.Errorf("skipped delivery without a reason: %+v", ds["1"])
		}
		if got := srv.Wait(t, 1, 10*time.Second); len(got) != 1 {
			t.Errorf("%d messages, want bob's alone", len(got))
		}
	})
}

// waitScheduled waits until an e-mail job is scheduled on day at hms (as
// the database writes it).
func waitScheduled(t *testing.T, url, day, hms string) {
	t.Helper()
	driver, dsn := "sqlite", "file:"+sqlite.Path(url)
	if !sqlite.IsURL(url) {
		driver, dsn = "pgx", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var seen []string
		rows, err := db.Query(`SELECT scheduled_at FROM river_job WHERE kind = 'cloche.email_send' AND state = 'scheduled'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var at string
			if err := rows.Scan(&at); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(at, day) && strings.Contains(at, hms) {
				rows.Close()
				return
			}
			seen = append(seen, at)
		}
		rows.Close()
		if time.Now().After(deadline) {
			t.Fatalf("no e-mail job scheduled on %s at %s: %v", day, hms, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

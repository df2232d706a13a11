package email_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// openDB opens the test database with database/sql, to read what the
// service does not show.
func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "sqlite", "file:"+sqlite.Path(url)
	if !sqlite.IsURL(url) {
		driver, dsn = "pgx", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A message that takes the server many leases to accept: its claim is
// renewed meanwhile, so another process sending from the same database
// never takes it, and it is sent once.
func TestSlowServerKeepsItsClaim(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		release := make(chan struct{})
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
			if stage == smtptest.StageData {
				<-release
			}
			return nil
		})
		cfg := config(url, srv)
		cfg.Email.Lease = cloche.Duration(4 * time.Second)
		cfg.SMTP.Timeout = cloche.Duration(5 * time.Minute) // the server takes its time
		a, b := open(t, cfg), open(t, cfg)
		loadDirectory(t, a)
		start(t, a)
		start(t, b)
		res := notify(t, a, cloche.Notification{Title: "Slow"}, cloche.Recipients{UserIDs: []string{"1"}})
		d := waitDeliveries(t, a, res.EventID, 60*time.Second, "sending", inState(cloche.DeliverySending))[0]

		// Hold the message until its lease was renewed three times: it has
		// then been held more than a lease past its first end.
		db := openDB(t, url)
		query := fmt.Sprintf(`SELECT CAST(lease_until AS TEXT) FROM deliveries WHERE id = %d`, d.ID)
		seen := map[string]bool{}
		deadline := time.Now().Add(120 * time.Second)
		for len(seen) < 4 {
			var lease sql.NullString
			if err := db.QueryRow(query).Scan(&lease); err != nil {
				t.Fatal(err)
			}
			if !lease.Valid {
				t.Fatalf("delivery %d no longer claimed while its message is being sent", d.ID)
			}
			seen[lease.String] = true
			if time.Now().After(deadline) {
				t.Fatalf("lease renewed %d times within 120s, want 3", len(seen)-1)
			}
			time.Sleep(50 * time.Millisecond)
		}
		close(release)
		d = waitDeliveries(t, a, res.EventID, 60*time.Second, "sent", inState(cloche.DeliverySent))[0]
		if d.Attempts != 1 {
			t.Errorf("sent after %d attempts, want 1: the claim was taken while it was sent", d.Attempts)
		}
		if n := srv.Attempts("alice@example.org"); n != 1 {
			t.Errorf("RCPT sent %d times, want 1", n)
		}
		if n := srv.Count(); n != 1 {
			t.Errorf("%d messages accepted, want 1", n)
		}
		if n := a.DeliveriesRescued() + b.DeliveriesRescued(); n != 0 {
			t.Errorf("%d deliveries rescued from a live claim", n)
		}
	})
}

// A process dies holding a claim: once its lease lapses, a running
// process takes the delivery again (counted as rescued), with its
// Message-ID, and sends it once.
func TestLapsedClaimRescued(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		quiet := open(t, config(url, nil))
		loadDirectory(t, quiet)
		res := notify(t, quiet, cloche.Notification{Title: "Rescued"}, cloche.Recipients{UserIDs: []string{"1"}})

		const lease = 3 * time.Second
		st := openStore(t, url)
		lapse := time.Now().Add(lease)
		cs, err := st.DeliveryClaim(context.Background(), &store.DeliveryClaimParams{
			Owner: "dead", Now: time.Now(), LeaseUntil: lapse, Limit: 10, MessageIDDomain: "cloche.test"})
		if err != nil || len(cs) != 1 {
			t.Fatalf("claim: %d, %v", len(cs), err)
		}

		srv := smtptest.Start(t, smtptest.Options{})
		cfg := config(url, srv)
		cfg.Email.Lease = cloche.Duration(lease)
		svc := open(t, cfg)
		start(t, svc)
		d := waitDeliveries(t, svc, res.EventID, 60*time.Second, "sent", inState(cloche.DeliverySent))[0]
		t.Logf("sent %s after the lease lapsed", d.SentAt.Sub(lapse).Round(time.Millisecond))
		if d.Attempts != 2 || d.MessageID != cs[0].MessageID {
			t.Errorf("rescued delivery %+v: want attempt 2 with the Message-ID %s", d, cs[0].MessageID)
		}
		if d.SentAt.Before(lapse) {
			t.Errorf("sent at %s, before the dead claim lapsed (%s)", d.SentAt, lapse)
		}
		if n := svc.DeliveriesRescued(); n != 1 {
			t.Errorf("DeliveriesRescued = %d, want 1", n)
		}
		msgs := srv.Wait(t, 1, 10*time.Second)
		if len(msgs) != 1 {
			t.Errorf("%d messages accepted, want 1", len(msgs))
		}
	})
}

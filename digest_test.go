package cloche_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// execRaw runs a statement straight on the database at url: what no API
// does (an event cancelled once published).
func execRaw(t *testing.T, url, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	if strings.HasPrefix(url, "postgres") {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for i := range args {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i+1), 1)
		}
		if _, err := conn.Exec(ctx, query, args...); err != nil {
			t.Fatal(err)
		}
		return
	}
	st, err := sqlite.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var db *sql.DB = st.DB()
	if _, err := db.ExecContext(ctx, query, args...); err != nil {
		t.Fatal(err)
	}
}

// offsetClock is a clock that tests move forward.
type offsetClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *offsetClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *offsetClock) add(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

func messagesTo(msgs []smtptest.Message, addr string) []string {
	var out []string
	for _, m := range msgs {
		for _, to := range m.To {
			if to == addr {
				out = append(out, string(m.Data))
			}
		}
	}
	return out
}

// describeMessages lists each message's recipients and subject, for a
// failure's report.
func describeMessages(msgs []smtptest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		subject := ""
		for _, line := range strings.Split(string(m.Data), "\r\n") {
			if strings.HasPrefix(line, "Subject:") {
				subject = line
				break
			}
		}
		fmt.Fprintf(&b, "  %v %s\n", m.To, subject)
	}
	return b.String()
}

// TestDigests: a person on a daily digest gets no e-mail at once (but
// forced ones and mandatory types'), then one digest listing what was held, newest first, in
// their language, without the items whose event was cancelled or whose
// until passed; a category's schedule overrides the person's, both ways;
// an empty digest is never sent.
func TestDigests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		sink := smtptest.Start(t, smtptest.Options{})
		cfg := testConfig(url)
		cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = sink.Host, sink.Port, "none"
		cfg.SMTP.From = "Cloche <noreply@cloche.test>"
		// The test moves the service's clock by hours; a claim on deliveries
		// in flight must not lapse for that alone (that would be a crash).
		cfg.Email.Lease = cloche.Duration(time.Hour)
		clock := &offsetClock{}
		svc := open(t, cfg, cloche.WithClock(clock.now))
		loadDirectory(t, svc)
		start(t, svc)

		// Due in two hours, whatever the time now (the people have no
		// zone: UTC).
		at := clock.now().UTC().Add(2 * time.Hour).Format("15:04")
		daily := cloche.DigestSchedule{Frequency: "daily", At: at}
		set := map[string]*cloche.DigestChange{
			"1": {Digest: &daily},                                                                 // alice, fr
			"2": {Categories: []cloche.CategoryDigest{{Category: "task", DigestSchedule: daily}}}, // bob, en: task only
			"6": {Digest: &daily, Categories: []cloche.CategoryDigest{{Category: "task", DigestSchedule: cloche.DigestSchedule{Frequency: "immediate"}}}},
		}
		for id, dc := range set {
			if _, err := svc.SetPreferences(ctx, id, nil, cloche.WithDigests(dc)); err != nil {
				t.Fatalf("user %s: %v", id, err)
			}
		}
		p, err := svc.Preferences(ctx, "2")
		if err != nil {
			t.Fatal(err)
		}
		if p.Digest == nil || p.Digest.Frequency != "immediate" || len(p.CategoryDigests) != 1 || p.CategoryDigests[0].Category != "task" ||
			p.CategoryDigests[0].Frequency != "daily" || p.CategoryDigests[0].At != at {
			t.Errorf("bob's document: %+v %+v", p.Digest, p.CategoryDigests)
		}

		to := cloche.Recipients{UserIDs: []string{"1", "2", "6"}}
		var ids []int64
		for i := range 4 {
			n := cloche.Notification{Key: "task:status:valid", Title: fmt.Sprintf("Devis %d", i),
				Body: fmt.Sprintf(`<p>Le devis %d est <strong>validé</strong> : <a href="https://endi.example.org/d/%d">voir</a>.</p>`, i, i)}
			if i == 1 {
				until := clock.now().Add(time.Hour)
				n.Until = &until
			}
			res, err := svc.Notify(ctx, n, to)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.EventID)
			clock.add(time.Second)
		}
		// message:internal is e-mail for nobody; a forced e-mail ignores digests.
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Forcé"},
			cloche.Recipients{UserIDs: []string{"1"}}, cloche.ForceChannel(cloche.ChannelEmail)); err != nil {
			t.Fatal(err)
		}
		// A mandatory type ignores digests.
		if err := svc.SetTypeMandatory(ctx, "task:status:paid", true); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:paid", Title: "Obligatoire"},
			cloche.Recipients{UserIDs: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
		// frank's task e-mails (4), alice's forced and mandatory ones leave
		// at once.
		msgs := sink.Wait(t, 6, 60*time.Second)
		if got := messagesTo(msgs, "frank@example.org"); len(got) != 4 {
			t.Errorf("frank got %d e-mails, want 4 (task is immediate for him)", len(got))
		}
		if got := messagesTo(msgs, "alice@example.org"); len(got) != 2 {
			t.Errorf("alice got %d e-mails, want only the forced and the mandatory ones", len(got))
		}
		if got := messagesTo(msgs, "bob@example.org"); len(got) != 0 {
			t.Errorf("bob got %d e-mails before his digest", len(got))
		}
		execRaw(t, url, `UPDATE events SET status = 'cancelled' WHERE id = ?`, ids[3])
		// Recorded sent before the clock jumps, so that no claim is in flight.
		waitFor(t, 60*time.Second, "the immediate e-mails recorded sent", func() (bool, error) {
			dels, err := svc.Deliveries(ctx, cloche.DeliveryFilter{State: cloche.DeliverySent, Limit: 50})
			return len(dels) == 6, err
		})

		// Not due yet: nothing.
		run, err := svc.RunDigests(ctx)
		if err != nil || run.Digests != 0 {
			t.Fatalf("before due: %+v %v", run, err)
		}
		clock.add(2 * time.Hour)
		if _, err := svc.RunDigests(ctx); err != nil {
			t.Fatal(err)
		}
		msgs = sink.Wait(t, 8, 60*time.Second)
		for _, c := range []struct{ addr, subject, lang string }{
			{"alice@example.org", "Vos notifications : 2 nouvelles", "Content-Language: fr"},
			{"bob@example.org", "Your notifications: 2 new", "Content-Language: en"},
		} {
			got := messagesTo(msgs, c.addr)
			var digest string
			for _, m := range got {
				if strings.Contains(m, "X-Cloche-Digest") {
					digest = m
				}
			}
			if digest == "" {
				t.Fatalf("%s: no digest among %d e-mails", c.addr, len(got))
			}
			if !strings.Contains(digest, c.subject) || !strings.Contains(digest, c.lang) {
				t.Errorf("%s: want subject %q and %s in\n%s", c.addr, c.subject, c.lang, digest)
			}
			i2, i0 := strings.Index(digest, "Devis 2"), strings.Index(digest, "Devis 0")
			if i2 < 0 || i0 < 0 || i2 > i0 {
				t.Errorf("%s: want Devis 2 then Devis 0 (newest first)", c.addr)
			}
			if strings.Contains(digest, "Devis 1") || strings.Contains(digest, "Devis 3") {
				t.Errorf("%s: the expired (1) and cancelled (3) items must be left out", c.addr)
			}
			if !strings.Contains(digest, "https://endi.example.org/d/2") {
				t.Errorf("%s: want the item's link", c.addr)
			}
		}
		if got := messagesTo(msgs, "frank@example.org"); len(got) != 4 {
			t.Errorf("frank: %d e-mails, want no digest (he held nothing)", len(got))
		}
		// The digests are ordinary deliveries, recorded sent.
		waitFor(t, 60*time.Second, "the digests recorded sent", func() (bool, error) {
			dels, err := svc.Deliveries(ctx, cloche.DeliveryFilter{Limit: 50})
			digests := 0
			for _, d := range dels {
				if d.DigestID() != 0 {
					if d.Reason != "digest" {
						t.Errorf("digest delivery %+v", d)
					}
					if d.State == cloche.DeliverySent {
						digests++
					}
				}
			}
			return digests == 2, err
		})
		// The next day: due again, but empty: nothing is sent.
		clock.add(24 * time.Hour)
		if run, err := svc.RunDigests(ctx); err != nil || run.Digests != 0 {
			t.Errorf("empty digest: %+v %v", run, err)
		}
		if n := sink.Count(); n != 8 {
			t.Errorf("%d messages, want 8:\n%s", n, describeMessages(sink.Messages()))
		}
	})
}

// TestDigestsTwoServices: two services on one database run the digests
// at once: each person gets one digest, none twice, none lost.
func TestDigestsTwoServices(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		clock := &offsetClock{}
		a := open(t, testConfig(url), cloche.WithClock(clock.now))
		b := open(t, testConfig(url), cloche.WithClock(clock.now))
		const people = 120
		var users strings.Builder
		users.WriteString(`{"users": [`)
		for i := range people {
			if i > 0 {
				users.WriteString(",")
			}
			fmt.Fprintf(&users, `{"id": "p%d", "email": "p%d@example.org", "groups": ["all"]}`, i, i)
		}
		users.WriteString(`]}`)
		if _, err := a.ImportDirectory(ctx, stringsReader(users.String())); err != nil {
			t.Fatal(err)
		}
		hourly := &cloche.DigestChange{Digest: &cloche.DigestSchedule{Frequency: "hourly"}}
		for i := range people {
			if _, err := a.SetPreferences(ctx, fmt.Sprint("p", i), nil, cloche.WithDigests(hourly)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 3 {
			if _, err := a.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: fmt.Sprint("T", i)},
				cloche.Recipients{GroupNames: []string{"all"}}); err != nil {
				t.Fatal(err)
			}
		}
		clock.add(time.Hour)
		var (
			wg   sync.WaitGroup
			runs [2]cloche.DigestRun
			errs [2]error
		)
		for i, svc := range []*cloche.Service{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runs[i], errs[i] = svc.RunDigests(ctx)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := runs[0].Digests + runs[1].Digests; got != people {
			t.Errorf("digests %d + %d, want %d in all", runs[0].Digests, runs[1].Digests, people)
		}
		if got := runs[0].Items + runs[1].Items; got != 3*people {
			t.Errorf("items %d, want %d", got, 3*people)
		}
		seen := map[string]int{}
		var before int64
		for {
			dels, err := a.Deliveries(ctx, cloche.DeliveryFilter{Limit: 500, BeforeID: before})
			if err != nil {
				t.Fatal(err)
			}
			if len(dels) == 0 {
				break
			}
			for _, d := range dels {
				if d.DigestID() != 0 {
					seen[d.UserID]++
				}
				before = d.ID
			}
		}
		if len(seen) != people {
			t.Errorf("%d people got a digest, want %d", len(seen), people)
		}
		for u, n := range seen {
			if n != 1 {
				t.Errorf("%s: %d digests", u, n)
			}
		}
	})
}

// TestDigestQuietHours: a digest that falls due inside the person's quiet
// hours is an e-mail delivery held until they end (not_before, reason
// quiet_hours), like any e-mail; it is not sent meanwhile.
func TestDigestQuietHours(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		sink := smtptest.Start(t, smtptest.Options{})
		cfg := testConfig(url)
		cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = sink.Host, sink.Port, "none"
		cfg.SMTP.From = "Cloche <noreply@cloche.test>"
		// The test moves the service's clock by hours; a claim on deliveries
		// in flight must not lapse for that alone (that would be a crash).
		cfg.Email.Lease = cloche.Duration(time.Hour)
		clock := &offsetClock{}
		svc := open(t, cfg, cloche.WithClock(clock.now))
		loadDirectory(t, svc)
		start(t, svc)

		// Due in two hours; quiet from one hour to five hours from now, in
		// the person's zone (Asia/Kolkata: not the organisation's).
		kolkata, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		t0 := clock.now().In(kolkata)
		end := t0.Add(5 * time.Hour).Truncate(time.Minute)
		quiet := &cloche.QuietHours{Start: t0.Add(time.Hour).Format("15:04"), End: end.Format("15:04")}
		daily := &cloche.DigestSchedule{Frequency: "daily", At: t0.Add(2 * time.Hour).Format("15:04")}
		if _, err := svc.SetPreferences(ctx, "1", nil, cloche.WithTimeZone("Asia/Kolkata"), cloche.WithQuietHours(quiet),
			cloche.WithDigests(&cloche.DigestChange{Digest: daily})); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Devis"},
			cloche.Recipients{UserIDs: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
		clock.add(2*time.Hour + time.Minute)
		run, err := svc.RunDigests(ctx)
		if err != nil || run.Digests != 1 {
			t.Fatalf("run: %+v %v", run, err)
		}
		dels, err := svc.Deliveries(ctx, cloche.DeliveryFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var held *cloche.Delivery
		for i := range dels {
			if dels[i].DigestID() != 0 {
				held = &dels[i]
			}
		}
		if held == nil {
			t.Fatalf("no digest delivery among %+v", dels)
		}
		if held.State != cloche.DeliveryQueued || held.HoldReason != "quiet_hours" || held.NotBefore == nil || !held.NotBefore.Equal(end) {
			t.Errorf("digest delivery: state %s, reason %q, not before %v; want queued, quiet_hours, %v", held.State, held.HoldReason, held.NotBefore, end)
		}
		if n := sink.Count(); n != 0 {
			t.Errorf("%d messages sent during quiet hours", n)
		}
	})
}

// TestDigestOrganisationZone: the schedule of a person with no zone of
// their own follows the setting time_zone (here Asia/Kolkata, 5:30 from
// UTC), not UTC.
func TestDigestOrganisationZone(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		cfg := testConfig(url)
		cfg.TimeZone = "Asia/Kolkata"
		clock := &offsetClock{}
		svc := open(t, cfg, cloche.WithClock(clock.now))
		loadDirectory(t, svc)
		kolkata, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		daily := &cloche.DigestSchedule{Frequency: "daily", At: clock.now().In(kolkata).Add(2 * time.Hour).Format("15:04")}
		p, err := svc.SetPreferences(ctx, "1", nil, cloche.WithDigests(&cloche.DigestChange{Digest: daily}))
		if err != nil || p.TimeZone != "Asia/Kolkata" {
			t.Fatalf("%+v %v", p, err)
		}
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Devis"},
			cloche.Recipients{UserIDs: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
		clock.add(2*time.Hour + time.Minute)
		if run, err := svc.RunDigests(ctx); err != nil || run.Digests != 1 {
			t.Fatalf("due at %s in Asia/Kolkata: %+v %v", daily.At, run, err)
		}
	})
}

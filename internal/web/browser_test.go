package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/testdb"
)

// EnvScreenshots set to 1 makes TestConsoleScreenshot write the README's
// screenshot (docs/screenshots/console-dashboard.png) instead of a
// temporary file.
const EnvScreenshots = "CLOCHE_SCREENSHOTS"

// tabOf is a browser tab and the test it belongs to.
type tabOf struct {
	t   *testing.T
	ctx context.Context
}

// do runs steps, failing the test on error.
func (b tabOf) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// open loads url and waits for the page.
func (b tabOf) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

// submit clicks sel and waits for the page it leads to.
func (b tabOf) submit(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
}

func (b tabOf) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b tabOf) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

func (b tabOf) path() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	i := strings.Index(loc, "/console")
	if i < 0 {
		return loc
	}
	return loc[i:]
}

// eval evaluates a JavaScript expression in the page.
func evalIn[T any](b tabOf, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// login logs in through the login form.
func (b tabOf) login(base, password string) {
	b.t.Helper()
	b.open(base + "/console/")
	if p := b.path(); p != "/console/login" {
		b.t.Fatalf("the console opened %s without a login, want the login page", p)
	}
	b.do(chromedp.SendKeys(chromedp.ID("password"), password))
	b.submit("form button[type=submit]")
}

func TestConsoleInBrowser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		browser := browsertest.New(t)
		h := newHarness(t, dbURL, nil)
		loadDemo(t, h.svc)
		b := tabOf{t, browser.Tab(t)}
		console := browsertest.WatchConsole(b.ctx)
		defer func() {
			// No page broke its own Content-Security-Policy, or anything else
			// (the statuses of refused forms, 401 and 422, are expected).
			for _, m := range console.Messages() {
				if (m.Type == chromedp.ConsoleError && m.Source != "network") || m.IsException() {
					t.Errorf("browser console: %s %s (%s)", m.Type, m.Text, m.URL)
				}
			}
		}()

		// On PostgreSQL (where only the database differs) the run skips the
		// wrong password and the logout.
		full := !strings.HasPrefix(dbURL, "postgres")
		if full {
			// A wrong password is refused, next to the field.
			b.login(h.srv.URL, "not the password at all")
			if got := b.text("#password-error"); got != "Wrong password." {
				t.Errorf("error next to the password = %q", got)
			}
			if b.path() != "/console/login" {
				t.Errorf("after a wrong password the page is %s", b.path())
			}
		}
		// The right one opens the dashboard.
		b.login(h.srv.URL, testPassword)
		if p := b.path(); p != "/console/" {
			t.Fatalf("after login the page is %s, want the dashboard", p)
		}
		if got := b.text("h1"); got != "Dashboard" {
			t.Errorf("h1 = %q", got)
		}

		// The send form with an empty title: the error is next to the
		// title field, and what was typed is kept.
		b.open(h.srv.URL + "/console/send")
		b.do(
			chromedp.SetValue(chromedp.ID("key"), "workshop:reminder"),
			chromedp.SendKeys(chromedp.ID("groups"), "manager, admin"),
			chromedp.SetValue(chromedp.ID("body"), "Room 3 <b>at noon</b>"),
			chromedp.SetValue(chromedp.ID("context"), "workshop:9"),
			chromedp.SetValue(chromedp.ID("channel"), "alert"),
		)
		b.submit("form.form button[type=submit]")
		if got := b.text("#title-error"); !strings.Contains(got, "must not be empty") {
			t.Errorf("error of the title = %q", got)
		}
		next := evalIn[string](b, `(() => {
			const e = document.getElementById('title-error');
			const f = e.closest('.field');
			return f.querySelector('input').id + '|' + (e.previousElementSibling && e.previousElementSibling.id) + '|' +
				document.getElementById('title').getAttribute('aria-describedby') + '|' + document.querySelectorAll('.error').length;
		})()`)
		if next != "title|title|title-error|1" {
			t.Errorf("the error is not right after the title field (field input|previous sibling|aria-describedby|errors): %s", next)
		}
		for sel, want := range map[string]string{"#groups": "manager, admin", "#body": "Room 3 <b>at noon</b>", "#context": "workshop:9", "#channel": "alert", "#key": "workshop:reminder"} {
			if got := b.value(sel); got != want {
				t.Errorf("%s after the error = %q, want %q (kept)", sel, got, want)
			}
		}

		// Fill the title: the event is created, and listed.
		b.do(chromedp.SendKeys(chromedp.ID("title"), "Workshop at noon"))
		b.submit("form.form button[type=submit]")
		if !strings.HasPrefix(b.path(), "/console/events/") {
			t.Fatalf("after sending, the page is %s, want the event's", b.path())
		}
		if got := b.text("#event-status"); got != "published" {
			t.Errorf("status = %q, want published", got)
		}
		if got := b.text(".flash"); !strings.Contains(got, "published on Alert (alert): 3 users reached") {
			t.Errorf("message after sending = %q", got)
		}
		b.open(h.srv.URL + "/console/events")
		if got := b.text("table.list tbody tr:first-child"); !strings.Contains(got, "Workshop at noon") || !strings.Contains(got, "published") {
			t.Errorf("first row of the events = %q", got)
		}

		// A scheduled one is cancelled from the events pages.
		due := time.Now().In(h.svc.Location()).Add(72 * time.Hour)
		b.open(h.srv.URL + "/console/send")
		b.do(
			chromedp.SetValue(chromedp.ID("user_ids"), "10"),
			chromedp.SetValue(chromedp.ID("title"), "Appointment on Thursday"),
			chromedp.SetValue(chromedp.ID("due"), due.Format("2006-01-02T15:04")),
		)
		b.submit("form.form button[type=submit]")
		if got := b.text("#event-status"); got != "pending" {
			t.Fatalf("status of the scheduled event = %q", got)
		}
		eventPath := b.path()
		b.open(h.srv.URL + "/console/events?status=pending")
		b.submit(`table.list a[href="` + eventPath + `"]`)
		b.submit("#cancel-event")
		if got := b.text("h1"); !strings.HasPrefix(got, "Cancel event ") {
			t.Fatalf("cancel button led to %q, want the confirmation", got)
		}
		b.submit("#confirm-cancel")
		if got := b.text("#event-status"); got != "cancelled" {
			t.Errorf("status after cancel = %q", got)
		}
		if got := b.text(".flash"); !strings.Contains(got, "cancelled") {
			t.Errorf("message after cancel = %q", got)
		}
		ev := latestEvent(t, h.svc)
		if ev.Title != "Appointment on Thursday" || ev.Status != cloche.EventCancelled {
			t.Errorf("latest event = %q %s, want the appointment, cancelled", ev.Title, ev.Status)
		}

		// A person's preferences, changed in their page's form.
		b.open(h.srv.URL + "/console/directory/user?id=11")
		sel := `select[name="type|message:internal|email"]`
		b.do(chromedp.SetValue(chromedp.CSS(sel), "on"))
		b.submit("form.prefs button[type=submit]")
		if got := b.text(".flash"); !strings.Contains(got, "Preferences of Farid Haddad saved: 1 setting(s).") {
			t.Errorf("message after saving the preferences = %q", got)
		}
		if got := b.value(sel); got != "on" {
			t.Errorf("the saved preference reads back as %q", got)
		}

		if !full {
			return
		}
		// Logging out ends the session.
		b.submit("form.logout button")
		if p := b.path(); !strings.HasPrefix(p, "/console/login") {
			t.Errorf("after logout the page is %s", p)
		}
		if got := b.text(".flash"); got != "You are logged out." {
			t.Errorf("message after logout = %q", got)
		}
		b.open(h.srv.URL + "/console/events")
		if p := b.path(); !strings.HasPrefix(p, "/console/login") {
			t.Errorf("after logout the events page opened (%s)", p)
		}
	})
}

// TestConsoleScreenshot fills a console with a month of history and
// photographs its dashboard (with the activity charts) and an event's
// recipients: into docs/screenshots/console-dashboard.png and
// console-recipients.png with CLOCHE_SCREENSHOTS=1, else into a temporary
// folder.
func TestConsoleScreenshot(t *testing.T) {
	t.Parallel()
	browser := browsertest.New(t)
	dbURL := testdb.SQLiteURL(t)
	h := newHarness(t, dbURL, nil)
	ctx := context.Background()
	loadDemo(t, h.svc)
	now := time.Now()
	history := []struct {
		n  cloche.Notification
		r  cloche.Recipients
		ch cloche.Channel
	}{
		{cloche.Notification{Key: "message:internal", Title: "Weekly news"}, cloche.Recipients{GroupNames: []string{"member", "manager"}}, ""},
		{cloche.Notification{Key: "task:status:valid", Title: "Invoice validated"}, cloche.Recipients{CompanyID: "30"}, ""},
		{cloche.Notification{Key: "expense:status:paid", Title: "Expense report paid"}, cloche.Recipients{UserIDs: []string{"10", "11", "13"}}, ""},
		{cloche.Notification{Key: "message:system", Title: "Maintenance"}, cloche.Recipients{GroupNames: []string{"member"}}, cloche.ChannelHeaderMessage},
		{cloche.Notification{Key: "message:system", Title: "New bank details"}, cloche.Recipients{CompanyID: "10"}, cloche.ChannelAlert},
	}
	// A month of it, more on weekdays, a few scheduled ones published late.
	for d := 29; d >= 0; d-- {
		for i, s := range history {
			if (d+i)%3 == 0 || (d%7 == 5 && i > 0) {
				continue
			}
			var opts []cloche.NotifyOption
			if s.ch != "" {
				opts = append(opts, cloche.ForceChannel(s.ch))
			}
			res, err := h.svc.Notify(ctx, s.n, s.r, opts...)
			if err != nil {
				t.Fatal(err)
			}
			at := now.Add(-time.Duration(d)*24*time.Hour - time.Duration(1+i*3+d%4)*time.Hour)
			testdb.Exec(t, dbURL, `UPDATE events SET published_at = ?, created_at = ?, due_at = ? WHERE id = ?`,
				at, at, at.Add(-time.Duration(10+(d*i)%50)*time.Second), res.EventID)
			testdb.Exec(t, dbURL, `UPDATE deliveries SET state = CASE WHEN id % 9 = 0 THEN 'failed' WHEN id % 5 = 0 THEN 'skipped' ELSE 'sent' END,
				created_at = ?, updated_at = ? WHERE event_id = ?`, at, at.Add(time.Minute), res.EventID)
		}
	}
	board, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "General assembly on June 12"},
		cloche.Recipients{GroupNames: []string{"member", "manager"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"1", "2", "10", "12"} {
		page, err := h.svc.Inbox(ctx, cloche.InboxQuery{UserID: u, Limit: 1})
		if err != nil || len(page.Items) == 0 {
			t.Fatalf("inbox of %s: %v", u, err)
		}
		if err := h.svc.MarkRead(ctx, u, page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	for i, title := range []string{"Workshop: pricing your work", "Appointment with Bruno"} {
		n := notification(title, time.Duration(i+1)*26*time.Hour)
		n.Key = "workshop:reminder"
		if _, err := h.svc.Notify(ctx, n, cloche.Recipients{CompanyID: "20"}); err != nil {
			t.Fatal(err)
		}
	}
	b := tabOf{t, browser.Tab(t)}
	b.login(h.srv.URL, testPassword)
	if got := b.text(`#chart-days`); got == "" {
		t.Fatalf("the dashboard has no chart")
	}
	dir := t.TempDir()
	if os.Getenv(EnvScreenshots) == "1" {
		dir = filepath.Join("..", "..", "docs", "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	shoot := func(name string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := browsertest.Screenshot(b.ctx, path); err != nil {
			t.Fatal(err)
		}
		png, err := os.ReadFile(path)
		if err != nil || string(png[1:4]) != "PNG" {
			t.Fatalf("screenshot %s: %v", path, err)
		}
		t.Logf("screenshot: %s (%d bytes)", path, len(png))
	}
	shoot("console-dashboard.png")
	b.open(h.srv.URL + "/console/events/" + itoa(board.EventID))
	if got := b.text("#read-rate"); got != "4 of 10" {
		t.Errorf("read rate shown %q, want 4 of 10 (members and managers, 4 of them read it)", got)
	}
	shoot("console-recipients.png")
}

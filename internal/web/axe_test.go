package web

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/testdb"
)

// TestConsoleAxe runs axe-core (vendored, see internal/browsertest) in
// Chromium on every console page, at a desktop and a phone viewport: no
// serious or critical violation. It logs each page's result. The markup
// does not depend on the database: SQLite only.
func TestConsoleAxe(t *testing.T) {
	t.Parallel()
	browser := browsertest.New(t)
	dbURL := testdb.SQLiteURL(t)
	h := newHarness(t, dbURL, nil)
	ctx := context.Background()
	loadDemo(t, h.svc)
	seedHistory(t, dbURL, h.svc, time.Now())
	published, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Board meeting", Body: "Room 3"}, managers)
	if err != nil {
		t.Fatal(err)
	}
	mail, err := h.svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Invoice validated"}, cloche.Recipients{CompanyID: "10"})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := h.svc.Notify(ctx, notification("Workshop next month", 30*24*time.Hour), cloche.Recipients{UserIDs: []string{"10"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.AddWebhook(ctx, cloche.WebhookInput{Name: "erp", URL: "https://erp.example.org/hooks/cloche", Types: []string{"task:*"}}); err != nil {
		t.Fatal(err)
	}
	base := h.srv.URL + "/console"
	// Pages reached by a form are reached by clicking its button.
	type step struct {
		name  string
		path  string // opened, or
		click string // clicked on path
	}
	steps := []step{
		{"dashboard", "/", ""},
		{"send", "/send", ""},
		{"send, with errors", "/send", "form.form button[type=submit]"},
		{"events", "/events", ""},
		{"events, searched", "/events?title=board&recipient=Bruno", ""},
		{"events, search refused", "/events?recipient=example.org", ""},
		{"event, published, recipients", fmt.Sprintf("/events/%d", published.EventID), ""},
		{"event, e-mail", fmt.Sprintf("/events/%d", mail.EventID), ""},
		{"event, pending", fmt.Sprintf("/events/%d", pending.EventID), ""},
		{"cancel, confirmation", fmt.Sprintf("/events/%d", pending.EventID), "#cancel-event"},
		{"bulk cancel, confirmation", "/events?status=pending", "#cancel-selected"},
		{"types", "/types", ""},
		{"types, read rates", "/types?rates=1", ""},
		{"type, new", "/types/new", ""},
		{"type, edit", "/types/edit?key=" + url.QueryEscape("message:system"), ""},
		{"default preferences", "/types/defaults", ""},
		{"deliveries", "/deliveries", ""},
		{"webhooks", "/webhooks", ""},
		{"webhooks, with errors", "/webhooks", "form.form button[type=submit]"},
		{"directory", "/directory", ""},
		{"directory, searched", "/directory?q=studio", ""},
		{"person", "/directory/user?id=13", ""},
		{"no such page", "/nowhere", ""},
	}
	viewports := []struct {
		name string
		w, h int64
		mob  bool
	}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

	results := map[string][]string{}
	// emulate sets tab b's viewport to vp's.
	emulate := func(b tabOf, mob bool, w, h int64) {
		opts := []chromedp.EmulateViewportOption{}
		if mob {
			opts = append(opts, chromedp.EmulateMobile)
		}
		b.do(chromedp.EmulateViewport(w, h, opts...))
	}
	// The login page, before logging in: at both sizes.
	for _, vp := range viewports {
		t.Run(vp.name+"/login", func(t *testing.T) {
			b := tabOf{t, browser.Tab(t)}
			emulate(b, vp.mob, vp.w, vp.h)
			b.open(base + "/login")
			vs, err := browsertest.Axe(b.ctx)
			if err != nil {
				t.Fatalf("login, %s: %v", vp.name, err)
			}
			results["login"] = append(results["login"], vp.name+": "+summarize(vs))
			for _, v := range vs {
				if v.Serious() {
					t.Errorf("login at %s: %s", vp.name, v)
				}
			}
		})
	}
	login := tabOf{t, browser.Tab(t)}
	login.login(h.srv.URL, testPassword)
	// Every page at both sizes (axe takes seconds a page on a loaded machine).
	for _, vp := range viewports {
		for _, s := range append(steps, step{"dashboard, auto-refresh on (opt-in)", "/?refresh=300", ""}) {
			// A tab per page (sharing the login): each gets the whole
			// timeout of a tab on a loaded machine.
			t.Run(vp.name+"/"+s.name, func(t *testing.T) {
				b := tabOf{t, browser.Tab(t)}
				emulate(b, vp.mob, vp.w, vp.h)
				b.open(base + s.path)
				if s.click != "" {
					if s.click == "#cancel-selected" {
						b.do(chromedp.Click(chromedp.CSS(`input[name="id"]`)))
					}
					b.submit(s.click)
				}
				vs, err := browsertest.Axe(b.ctx)
				if err != nil {
					t.Fatalf("%s, %s: %v", s.name, vp.name, err)
				}
				results[s.name] = append(results[s.name], vp.name+": "+summarize(vs))
				if strings.Contains(s.path, "refresh=") {
					return // the reload the operator asked for: logged, see README
				}
				for _, v := range vs {
					if v.Serious() {
						t.Errorf("%s at %s: %s", s.name, vp.name, v)
					}
				}
			})
		}
	}
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	var out strings.Builder
	fmt.Fprintf(&out, "axe-core %s, WCAG 2.x A/AA and best practices:\n", browsertest.AxeVersion)
	for _, n := range names {
		fmt.Fprintf(&out, "  %-38s %s\n", n, strings.Join(results[n], "; "))
	}
	t.Log(out.String())
}

// summarize counts violations by impact and names the rules.
func summarize(vs []browsertest.AxeViolation) string {
	if len(vs) == 0 {
		return "0 violations"
	}
	var parts []string
	for _, v := range vs {
		parts = append(parts, fmt.Sprintf("%s (%s, %d)", v.ID, v.Impact, len(v.Nodes)))
	}
	return fmt.Sprintf("%d violations: %s", len(vs), strings.Join(parts, ", "))
}

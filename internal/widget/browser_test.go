package widget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/demo"
	"github.com/cloche/cloche/internal/httpapi"
	"github.com/cloche/cloche/internal/testdb"
	"github.com/cloche/cloche/internal/widget"
)

// env is a started service with the demo directory, its HTTP server (the
// API, the live streams, the widget's script) on a loopback port, and a
// host application on another origin whose pages embed the widget, as a
// real host's do.
type env struct {
	t          *testing.T
	svc        *cloche.Service
	api        string // http://127.0.0.1:port of Cloche
	key        string // an API key
	host       string // the host application's origin
	tokenCalls atomic.Int32

	stopAPI func()
	// refuse is how many more stream requests are answered 503, as a
	// server whose live updates are not running yet answers; streams
	// counts the stream requests, resumed those that carried
	// last_event_id.
	refuse, streams, resumed atomic.Int32
	// fields, when set, answers the preference routes as a server with
	// the person-level fields of issue 10 (see fieldsServer).
	fields atomic.Pointer[fieldsServer]
	// hold, when set, holds every request of a user (/api/v1/me/…: the
	// lists, the counts, the stream) until it is closed: a slow network.
	hold atomic.Pointer[chan struct{}]
	// refusePages, while positive, answers that many requests for a next
	// page of notifications (those with a cursor) 429, as the per-user
	// rate limit does to a person scrolling fast.
	refusePages atomic.Int32
}

func newEnv(t *testing.T, dbURL string) *env {
	t.Helper()
	return newEnvWith(t, dbURL, nil)
}

// newEnvWith is newEnv with settings changed by configure.
func newEnvWith(t *testing.T, dbURL string, configure func(*cloche.Config)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	host := httptest.NewServer(http.HandlerFunc(e.serveHost))
	t.Cleanup(host.Close)
	e.host = host.URL

	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = dbURL
	cfg.TimeZone = "Europe/Paris"
	cfg.HTTP.CORSOrigins = []string{e.host}
	cfg.Realtime.Retry = cloche.Duration(200 * time.Millisecond)
	if configure != nil {
		configure(&cfg)
	}
	svc, err := cloche.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = svc.Stop(ctx)
	})
	if _, err := demo.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.serveAPI("127.0.0.1:0")
	t.Cleanup(func() { e.stopAPI() })
	if _, e.key, err = svc.CreateAPIKey(ctx, "host"); err != nil {
		t.Fatal(err)
	}
	return e
}

// serveAPI serves Cloche's HTTP API (with the widget) on addr until
// stopAPI.
func (e *env) serveAPI(addr string) {
	e.t.Helper()
	srv, err := httpapi.New(e.svc, httpapi.Options{Streamer: e.svc.Streamer(), Mount: []func(*http.ServeMux){widget.New().Register}})
	if err != nil {
		e.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := e.hold.Load(); h != nil && strings.HasPrefix(r.URL.Path, "/api/v1/me/") && r.Method != http.MethodOptions {
			select {
			case <-*h:
			case <-r.Context().Done():
				return
			}
		}
		if r.URL.Path == "/api/v1/me/notifications" && r.Method == http.MethodGet && r.URL.Query().Get("cursor") != "" && e.refusePages.Add(-1) >= 0 {
			w.Header().Set("Access-Control-Allow-Origin", e.host)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		if r.URL.Path == "/api/v1/me/stream" {
			e.streams.Add(1)
			if r.URL.Query().Get("last_event_id") != "" {
				e.resumed.Add(1)
			}
			if e.refuse.Add(-1) >= 0 {
				w.Header().Set("Access-Control-Allow-Origin", e.host)
				http.Error(w, "live updates are not running here", http.StatusServiceUnavailable)
				return
			}
		}
		if f := e.fields.Load(); f != nil && r.URL.Path == "/api/v1/me/preferences" && r.Method != http.MethodOptions {
			f.serve(w, r, srv)
			return
		}
		srv.ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	e.api = "http://" + ln.Addr().String()
	e.stopAPI = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx) // ends the streams
		_ = hs.Shutdown(ctx)
	}
}

// hostPage is a page of the host application: the three elements, each
// configured by its attributes, between two focusable elements of its own,
// under a policy that allows no inline script or style.
var hostPage = template.Must(template.New("host").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Host</title>
<script src="{{.API}}/widget/cloche.js" defer></script></head>
<body>
{{define "attrs"}} api="{{.API}}" token="{{.Token}}"{{with .TokenURL}} token-url="{{.}}"{{end}}{{with .Lang}} lang="{{.}}"{{end}}{{with .Theme}} theme="{{.}}"{{end}}{{end}}
<cloche-banner{{template "attrs" .}}></cloche-banner>
<header><button id="before">Before</button> <cloche-bell{{template "attrs" .}}{{if .Toasts}} toasts desktop{{end}}></cloche-bell></header>
<main><p>The host's own page.</p><a id="after" href="#after">After</a></main>
<cloche-alerts{{template "attrs" .}}></cloche-alerts>
</body></html>`))

// serveHost serves the host application: /app?user=ID[&lang=fr][&renew=1]
// [&toasts=1][&theme=dark] (renew: a token Cloche refuses, and a
// token-url; toasts: the bell's toasts and desktop attributes), and
// /token?user=ID.
func (e *env) serveHost(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/cloche-sw.js" { // the one line README asks of a host
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprintf(w, "importScripts('%s/widget/cloche-sw.js');\n", e.api)
		return
	}
	user := r.URL.Query().Get("user")
	tok, _, err := e.svc.UserToken(r.Context(), user, 10*time.Minute)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	switch r.URL.Path {
	case "/token":
		e.tokenCalls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok})
	case "/app":
		q := r.URL.Query()
		data := map[string]string{"API": e.api, "Token": tok, "Lang": q.Get("lang"), "Toasts": q.Get("toasts"), "Theme": q.Get("theme")}
		if r.URL.Query().Get("renew") == "1" {
			data["Token"], data["TokenURL"] = "expired.or.forged", "/token?user="+user
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src "+e.api+"; connect-src 'self' "+e.api+"; worker-src 'self'; style-src 'none'; img-src 'self'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = hostPage.Execute(w, data)
	default:
		http.NotFound(w, r)
	}
}

// notify sends through the HTTP API, as a host application does.
func (e *env) notify(body map[string]any) int64 {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.api+"/api/v1/events", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var res struct {
		EventID int64 `json:"event_id"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(out, &res) != nil {
		e.t.Fatalf("notify %s: %d %s", b, resp.StatusCode, out)
	}
	return res.EventID
}

func (e *env) unread(user string) map[cloche.Channel]int {
	e.t.Helper()
	c, err := e.svc.UnreadCounts(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// tab is a browser tab on a host page.
type tab struct {
	t       *testing.T
	ctx     context.Context
	console *browsertest.ConsoleLog
	// cspReports tolerates the reports of the host's policy about the
	// attributes of a body: chromium checks an on… or style attribute
	// against the page's policy as DOMParser reads it, and reports it,
	// although the parsed document runs nothing (it has no window).
	cspReports bool
}

func (e *env) open(b *browsertest.Browser, query string) *tab {
	e.t.Helper()
	tb := e.openAnd(b, query, nil)
	tb.live()
	return tb
}

// openAnd opens a tab, runs before in it (emulation, scripts for new
// documents), then loads the host page, without waiting for the stream.
func (e *env) openAnd(b *browsertest.Browser, query string, before func(tb *tab)) *tab {
	e.t.Helper()
	tb := &tab{t: e.t, ctx: b.Tab(e.t)}
	tb.console = browsertest.WatchConsole(tb.ctx)
	if before != nil {
		before(tb)
	}
	tb.do(chromedp.Navigate(e.host + "/app?" + query))
	e.t.Cleanup(tb.checkConsole)
	return tb
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatal(err)
	}
}

func js[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wait waits until expr is true, for at most a minute (only a failure waits
// that long; CI shares two cores with other work).
func (tb *tab) wait(what, expr string) {
	tb.t.Helper()
	if err := browsertest.Until(tb.ctx, expr, time.Minute); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// live waits until the three elements follow the stream.
func (tb *tab) live() {
	tb.t.Helper()
	tb.wait("the stream", `[...document.querySelectorAll('cloche-bell, cloche-banner, cloche-alerts')].every(el => el.getAttribute('connection') === 'live')`)
}

func (tb *tab) reload() {
	tb.t.Helper()
	tb.do(chromedp.Reload())
	tb.live()
}

// checkConsole fails the test on an uncaught exception or an error the
// page logged (a refused request is the browser's, not the page's).
func (tb *tab) checkConsole() {
	for _, m := range tb.console.Messages() {
		if tb.cspReports && m.Source == "security" && (strings.HasPrefix(m.Text, "Executing inline event handler violates") ||
			strings.HasPrefix(m.Text, "Applying inline style violates")) {
			continue
		}
		if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
			tb.t.Errorf("browser console: %s %s %s (%s)", m.Source, m.Type, m.Text, m.URL)
		}
	}
}

// in is a JavaScript expression for the first match of sel in the shadow
// root of the element el; all for every match, as an array.
var in = browsertest.InShadow

func all(el, sel string) string {
	return fmt.Sprintf(`[...document.querySelector(%q).shadowRoot.querySelectorAll(%q)]`, el, sel)
}

// badge is the bell's count as shown: "" when hidden.
func (tb *tab) badge() string {
	tb.t.Helper()
	return js[string](tb, `(b => b.hidden ? '' : b.textContent)(`+in("cloche-bell", ".badge")+`)`)
}

func (tb *tab) waitBadge(want string) {
	tb.t.Helper()
	tb.wait("the bell to show "+strconv.Quote(want), `(b => (b.hidden ? '' : b.textContent) === `+strconv.Quote(want)+`)(`+in("cloche-bell", ".badge")+`)`)
}

// click clicks the first match of sel in el's shadow root.
func (tb *tab) click(el, sel string) {
	tb.t.Helper()
	js[bool](tb, in(el, sel)+`.click() || true`)
}

// focused is the class of the element focused in el's shadow root, and
// whether the page's focus is on el.
func (tb *tab) focused(el string) string {
	tb.t.Helper()
	return js[string](tb, fmt.Sprintf(`(h => (document.activeElement === h ? '' : 'outside:') + (h.shadowRoot.activeElement ? h.shadowRoot.activeElement.className || h.shadowRoot.activeElement.localName : 'none'))(document.querySelector(%q))`, el))
}

func (tb *tab) key(k string, opts ...chromedp.KeyOption) {
	tb.t.Helper()
	tb.do(chromedp.KeyEvent(k, opts...))
}

func TestWidgetInBrowser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			browser := browsertest.New(t)
			e := newEnv(t, b.URL(t))
			t.Run("bell", func(t *testing.T) { e.t = t; testBell(e, browser) })
			t.Run("banner", func(t *testing.T) { e.t = t; testBanner(e, browser) })
			t.Run("alerts", func(t *testing.T) { e.t = t; testAlerts(e, browser) })
			t.Run("safe_html", func(t *testing.T) { e.t = t; testSafeHTML(e, browser) })
			t.Run("token_renewal", func(t *testing.T) { e.t = t; testTokenRenewal(e, browser) })
			t.Run("reconnect", func(t *testing.T) { e.t = t; testReconnect(e, browser) })
			t.Run("settings", func(t *testing.T) { e.t = t; testSettings(e, browser) })
			t.Run("settings_keyboard", func(t *testing.T) { e.t = t; testSettingsKeyboard(e, browser) })
			t.Run("settings_fields", func(t *testing.T) { e.t = t; testSettingsFields(e, browser) })
			t.Run("focus", func(t *testing.T) { e.t = t; testFocus(e, browser) })
			t.Run("loading", func(t *testing.T) { e.t = t; testLoading(e, browser) })
			t.Run("failures", func(t *testing.T) { e.t = t; testFailures(e, browser) })
			t.Run("a11y", func(t *testing.T) { e.t = t; testA11y(e, browser) })
			t.Run("one_item_redrawn", func(t *testing.T) { e.t = t; testOneItemRedrawn(e, browser) })
			t.Run("filters", func(t *testing.T) { e.t = t; testFilters(e, browser) })
			t.Run("toasts", func(t *testing.T) { e.t = t; testToasts(e, browser) })
			t.Run("dark", func(t *testing.T) { e.t = t; testDark(e, browser) })
		})
	}
}

// A notification sent through the API shows in the bell of two tabs at
// once; read in one, it is read in the other. Then the list's pages,
// "mark all read", postpone, and the keyboard.
func testBell(e *env, browser *browsertest.Browser) {
	t := e.t
	streams := e.streams.Load()
	a := e.open(browser, "user=10&lang=fr")
	if n := e.streams.Load() - streams; n != 1 {
		t.Errorf("the page opened %d streams, want one for its three elements", n)
	}
	if got := a.badge(); got != "" {
		t.Fatalf("badge before anything was sent: %q", got)
	}
	bell := in("cloche-bell", ".bell")
	if got := js[string](a, bell+`.getAttribute('aria-haspopup') + '|' + `+in("cloche-bell", ".panel")+`.getAttribute('role') + '|' + `+
		bell+`.getAttribute('aria-label')`); got != "dialog|dialog|Notifications, aucune non lue" {
		t.Errorf("the bell's roles and label: %q", got)
	}
	// Colours come from the page's custom properties.
	js[bool](a, `document.documentElement.style.setProperty('--cloche-danger', 'rgb(1, 2, 3)') || true`)
	a.click("cloche-bell", ".bell")
	a.wait("the empty state", in("cloche-bell", ".empty")+`.textContent === 'Aucune notification.' && !`+in("cloche-bell", ".empty")+`.hidden`)
	a.click("cloche-bell", ".bell") // closed again

	e.notify(map[string]any{"key": "message:internal", "title": "Facture 42 payée", "body": "Le client a payé.", "user_ids": []string{"10"}})
	a.waitBadge("1")
	if got := js[string](a, in("cloche-bell", ".bell")+`.getAttribute('aria-label')`); got != "Notifications, 1 non lue" {
		t.Errorf("bell label %q", got)
	}
	if got := js[string](a, `getComputedStyle(`+in("cloche-bell", ".badge")+`).backgroundColor`); got != "rgb(1, 2, 3)" {
		t.Errorf("the count's colour is %s, not the page's --cloche-danger", got)
	}
	b := e.open(browser, "user=10&lang=fr")
	b.waitBadge("1")

	a.click("cloche-bell", ".bell")
	item := in("cloche-bell", "li.item")
	if got := js[string](a, item+`.textContent`); !strings.Contains(got, "Facture 42 payée") || !strings.Contains(got, "Le client a payé.") ||
		!strings.Contains(got, "Non lue") || !strings.Contains(got, "maintenant") && !strings.Contains(got, "il y a") {
		t.Errorf("item %q: want its title, body, unread mark and relative time", got)
	}
	if got := js[string](a, in("cloche-bell", "li.item .mark")+`.dataset.status + '|' + `+in("cloche-bell", "li.item .mark")+`.getAttribute('aria-label')`); got != "neutral|Information" {
		t.Errorf("status mark %q", got)
	}
	a.click("cloche-bell", `li.item [data-action=toggle]`)
	a.waitBadge("")
	b.waitBadge("") // the change reached the other tab
	b.wait("the item read in the other tab", `!`+in("cloche-bell", "li.item")+`.classList.contains('unread')`)
	if n := e.unread("10")[cloche.ChannelMessage]; n != 0 {
		t.Errorf("%d unread after marking read", n)
	}

	// Twenty-five more: twenty show, the rest come as the list is scrolled
	// to its end.
	for i := range 25 {
		e.notify(map[string]any{"key": "message:internal", "title": fmt.Sprintf("Message %02d", i), "user_ids": []string{"10"}})
	}
	a.waitBadge("25")
	b.reload()
	b.waitBadge("25")
	b.click("cloche-bell", ".bell")
	b.wait("the first page", all("cloche-bell", "li.item")+`.length === 20`)
	if got := js[string](b, in("cloche-bell", "li.item .title")+`.textContent`); !strings.HasSuffix(got, "Message 24") {
		t.Errorf("first item %q, want the newest", got)
	}
	b.wait("the second page", `(`+in("cloche-bell", ".panel")+`.scrollTop = 1e6, `+
		all("cloche-bell", "li.item")+`.length === 26 && `+all("cloche-bell", "li.skeleton")+`.length === 0)`)

	// Postpone hides one; mark all read reads the rest, in both tabs.
	b.click("cloche-bell", `li.item [data-action=postpone]`)
	b.wait("the postponed item to go", all("cloche-bell", "li.item")+`.length === 25`)
	a.waitBadge("24")
	b.click("cloche-bell", `[data-action=read-all]`)
	a.waitBadge("")
	b.waitBadge("")
	if n := e.unread("10")[cloche.ChannelMessage]; n != 0 {
		t.Errorf("%d unread after mark all read", n)
	}

	// The keyboard: Enter on the bell opens the menu, Escape closes it and
	// gives the focus back to the bell.
	a.do(chromedp.Reload())
	a.live()
	js[bool](a, in("cloche-bell", ".bell")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("the menu to open", `!`+in("cloche-bell", ".panel")+`.hidden && `+in("cloche-bell", ".bell")+`.getAttribute('aria-expanded') === 'true'`)
	if got := a.focused("cloche-bell"); got != "panel" {
		t.Errorf("focus after opening the menu: %s, want the panel", got)
	}
	a.key(kb.Tab)
	a.key(kb.Escape)
	a.wait("the menu to close", in("cloche-bell", ".panel")+`.hidden && `+in("cloche-bell", ".bell")+`.getAttribute('aria-expanded') === 'false'`)
	if got := a.focused("cloche-bell"); got != "bell" {
		t.Errorf("focus after Escape: %s, want the bell", got)
	}
}

// A header message shows a banner; closing it marks it read, and it stays
// gone after a reload.
func testBanner(e *env, browser *browsertest.Browser) {
	t := e.t
	a := e.open(browser, "user=12")
	e.notify(map[string]any{"key": "message:system", "title": "Maintenance tonight", "body": "From <b>22:00</b> to 23:00.", "user_ids": []string{"12"}, "force_channel": "header_message"})
	a.wait("the banner", all("cloche-banner", ".banner")+`.length === 1`)
	if got := js[string](a, in("cloche-banner", ".banner")+`.textContent`); !strings.Contains(got, "Maintenance tonight") || !strings.Contains(got, "From 22:00 to 23:00.") {
		t.Errorf("banner %q", got)
	}
	if got := js[string](a, in("cloche-banner", ".close")+`.getAttribute('aria-label')`); got != "Dismiss: Maintenance tonight" {
		t.Errorf("close button label %q", got)
	}
	if got := js[string](a, in("cloche-banner", ".banners")+`.getAttribute('role') + '|' + `+in("cloche-banner", ".banners")+`.getAttribute('aria-label')`); got != "region|Announcements" {
		t.Errorf("banners region %q", got)
	}
	a.click("cloche-banner", ".close")
	a.wait("the banner to close", all("cloche-banner", ".banner")+`.length === 0`)
	if n := e.unread("12")[cloche.ChannelHeaderMessage]; n != 0 {
		t.Errorf("%d unread header messages after closing the banner", n)
	}
	// Another one, left open: after a reload it is back, the closed one is not.
	e.notify(map[string]any{"key": "message:system", "title": "New bank details", "user_ids": []string{"12"}, "force_channel": "header_message"})
	a.wait("the second banner", all("cloche-banner", ".banner")+`.length === 1`)
	a.reload()
	a.wait("the open banner after the reload", all("cloche-banner", ".banner")+`.length >= 1`)
	if got := js[string](a, all("cloche-banner", ".banner .title")+`.map(x => x.textContent).join('|')`); got != "New bank details" {
		t.Errorf("banners after a reload: %q, want only the one left open", got)
	}

	// More than two pages of them: every one shows after a reload, not
	// the first page (20).
	for i := range 44 {
		e.notify(map[string]any{"key": "message:system", "title": fmt.Sprintf("Banner %02d", i), "user_ids": []string{"12"}, "force_channel": "header_message"})
	}
	if n := e.unread("12")[cloche.ChannelHeaderMessage]; n != 45 {
		t.Fatalf("%d unread header messages, want 45", n)
	}
	a.reload()
	a.wait("45 banners after a reload", all("cloche-banner", ".banner")+`.length === 45`)
	titles := js[string](a, all("cloche-banner", ".banner .title")+`.map(x => x.textContent).join('|')`)
	if !strings.HasPrefix(titles, "Banner 43|Banner 42|") || !strings.HasSuffix(titles, "|Banner 00|New bank details") {
		t.Errorf("banners, newest first: %q", titles)
	}
	a.click("cloche-banner", ".close")
	a.wait("44 banners", all("cloche-banner", ".banner")+`.length === 44`)
}

// Alerts open a modal, one at a time, oldest first; the focus is held in
// it; acknowledging shows the next, then closes it.
func testAlerts(e *env, browser *browsertest.Browser) {
	t := e.t
	a := e.open(browser, "user=3")
	js[bool](a, `document.getElementById('before').focus() || true`)
	e.notify(map[string]any{"key": "message:system", "title": "Bank details changed", "body": `See <a href="https://example.org/bank">the new details</a>.`, "user_ids": []string{"3"}})
	e.notify(map[string]any{"key": "message:system", "title": "Office closed on Friday", "user_ids": []string{"3"}})
	dialog := in("cloche-alerts", "[role=alertdialog]")
	a.wait("the modal", `!`+in("cloche-alerts", ".backdrop")+`.hidden && `+in("cloche-alerts", "#alert-title")+`.textContent.includes('Bank details changed')`)
	a.wait("the second alert to be counted", in("cloche-alerts", ".counter")+`.textContent === 'Alert 1 of 2'`)
	if got := js[string](a, dialog+`.getAttribute('aria-modal') + '|' + `+dialog+`.getAttribute('aria-labelledby') + '|' + `+dialog+`.dataset.status`); got != "true|alert-title|caution" {
		t.Errorf("dialog attributes %q", got)
	}
	if got := a.focused("cloche-alerts"); got != "ack" {
		t.Errorf("focus when the modal opens: %s, want its button", got)
	}
	// Tab and Shift+Tab go round the link and the button, never out.
	for i, want := range []string{"a", "ack", "a", "ack"} {
		a.key(kb.Tab)
		if got := a.focused("cloche-alerts"); got != want {
			t.Errorf("after Tab %d the focus is on %s, want %s", i+1, got, want)
		}
	}
	a.key(kb.Tab, chromedp.KeyModifiers(chromedp.ModifierShift))
	if got := a.focused("cloche-alerts"); got != "a" {
		t.Errorf("after Shift+Tab the focus is on %s, want the link", got)
	}
	a.key(kb.Escape)
	if hidden := js[bool](a, in("cloche-alerts", ".backdrop")+`.hidden`); hidden {
		t.Fatalf("Escape dismissed an alert without acknowledging it")
	}
	a.click("cloche-alerts", ".ack")
	a.wait("the next alert", in("cloche-alerts", "#alert-title")+`.textContent.includes('Office closed on Friday') && `+in("cloche-alerts", ".counter")+`.textContent === 'Alert 2 of 2'`)
	a.click("cloche-alerts", ".ack")
	a.wait("the modal to close", in("cloche-alerts", ".backdrop")+`.hidden`)
	if got := js[string](a, `document.activeElement.id`); got != "before" {
		t.Errorf("focus after the last alert: %q, want back where it was", got)
	}
	if n := e.unread("3")[cloche.ChannelAlert]; n != 0 {
		t.Errorf("%d unread alerts after acknowledging both", n)
	}
	// The next ones count from one again; a lone alert is not counted.
	e.notify(map[string]any{"key": "message:system", "title": "Third", "user_ids": []string{"3"}})
	a.wait("a lone alert, without a counter", in("cloche-alerts", "#alert-title")+`.textContent.includes('Third') && `+in("cloche-alerts", ".counter")+`.hidden`)
	e.notify(map[string]any{"key": "message:system", "title": "Fourth", "user_ids": []string{"3"}})
	a.wait("the counter", in("cloche-alerts", ".counter")+`.textContent === 'Alert 1 of 2' && !`+in("cloche-alerts", ".counter")+`.hidden`)
}

// Bodies show their safe HTML subset only, on every channel: nothing runs,
// nothing loads.
func testSafeHTML(e *env, browser *browsertest.Browser) {
	t := e.t
	a := e.open(browser, "user=13")
	a.cspReports = true
	const body = `<p class="lead" style="color:red" onclick="window.__pwned=7">Hello <strong onmouseover="window.__pwned=8">there</strong>, <a href="javascript:window.__pwned=6">bad link</a> ` +
		`<a href="https://example.org/ok" title="ok" onclick="window.__pwned=3" style="color:red">good link</a></p>` +
		`<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><style>*{display:none}</style>` +
		`<iframe src="https://example.org/frame"></iframe><svg onload="window.__pwned=4"><text>svg text</text></svg>` +
		`<div onmouseover="window.__pwned=5" class="x">kept text</div><ul><li>one</li></ul>`
	for _, ch := range []string{"message", "header_message", "alert"} {
		e.notify(map[string]any{"key": "message:internal", "title": "Tricky " + ch, "body": body, "user_ids": []string{"13"}, "force_channel": ch})
	}
	e.notify(map[string]any{"key": "message:internal", "title": "Plain", "body": "a < b & c\nsecond line https://example.org/p.\n\nnext paragraph", "user_ids": []string{"13"}})
	a.click("cloche-bell", ".bell")
	a.wait("the bell's items", all("cloche-bell", "li.item")+`.length === 2`)
	a.wait("the banner", all("cloche-banner", ".banner")+`.length === 1`)
	a.wait("the modal", `!`+in("cloche-alerts", ".backdrop")+`.hidden`)

	for _, el := range []string{"cloche-bell", "cloche-banner", "cloche-alerts"} {
		bodies := all(el, ".body")
		got := js[string](a, bodies+`.filter(b => b.textContent.includes('kept text')).map(b => b.textContent).join('|')`)
		if got != "Hello there, bad link good linkkept textone" {
			t.Errorf("%s: text of the body %q", el, got)
		}
		// Every element is of the subset, with only its own attributes.
		got = js[string](a, bodies+`.flatMap(b => [...b.querySelectorAll('*')]).map(n => n.localName + [...n.attributes].map(x => ' ' + x.name + '=' + x.value).join('')).join('|')`)
		want := "p|strong|a href=https://example.org/ok rel=noopener noreferrer target=_blank title=ok|ul|li"
		if el == "cloche-bell" {
			want = "p|br|a href=https://example.org/p rel=noopener noreferrer target=_blank|p|" + want
		}
		if got != want {
			t.Errorf("%s: elements of the bodies\n got %s\nwant %s", el, got, want)
		}
		if n := js[int](a, all(el, "img, script, style, iframe, object, [onerror], [onclick], [onload], [style]:not(.panel)")+`.length`); n != 0 {
			t.Errorf("%s: %d unsafe elements in the shadow root", el, n)
		}
	}
	if got := js[string](a, `String(window.__pwned)`); got != "undefined" {
		t.Errorf("a body's script ran: window.__pwned = %s", got)
	}
	if got := js[string](a, all("cloche-bell", ".body")+`.map(b => b.textContent).find(t => t.startsWith('a < b'))`); got != "a < b & csecond line https://example.org/p.next paragraph" {
		t.Errorf("plain text body %q", got)
	}
}

// A token Cloche refuses is renewed from the host's token-url.
func testTokenRenewal(e *env, browser *browsertest.Browser) {
	t := e.t
	before := e.tokenCalls.Load()
	a := e.open(browser, "user=14&renew=1")
	if e.tokenCalls.Load() == before {
		t.Errorf("the token-url was not called")
	}
	e.notify(map[string]any{"key": "message:internal", "title": "After renewal", "user_ids": []string{"14"}})
	a.waitBadge("1")
}

// When the API comes back but refuses the stream at first (503: EventSource
// gives up), the widget opens it again with its last event id, and what
// was sent while it was away shows, without a reload.
func testReconnect(e *env, browser *browsertest.Browser) {
	t := e.t
	a := e.open(browser, "user=16")
	js[bool](a, `window.sameDocument = true`)
	e.notify(map[string]any{"key": "message:internal", "title": "Before the cut", "user_ids": []string{"16"}})
	a.waitBadge("1")

	addr := strings.TrimPrefix(e.api, "http://")
	e.refuse.Store(1)
	e.stopAPI()
	a.wait("the page to lose its stream", `document.querySelector('cloche-bell').getAttribute('connection') !== 'live'`)
	if _, err := e.svc.Notify(context.Background(), cloche.Notification{Key: "message:internal", Title: "Sent during the cut"},
		cloche.Recipients{UserIDs: []string{"16"}}); err != nil {
		t.Fatal(err)
	}
	resumed := e.resumed.Load()
	e.serveAPI(addr)
	a.wait("what was sent during the cut", all("cloche-bell", "li.item .title")+`.some(x => x.textContent.endsWith('Sent during the cut'))`)
	a.waitBadge("2")
	a.live()
	if e.refuse.Load() >= 0 {
		t.Errorf("the stream was not refused once: the test did not test the reopening")
	}
	if e.resumed.Load() == resumed {
		t.Errorf("no stream request carried last_event_id")
	}
	if !js[bool](a, `window.sameDocument === true`) {
		t.Errorf("the page was reloaded")
	}
}

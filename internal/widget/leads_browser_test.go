package widget_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/testdb"
)

// A banner's and an alert's url and actions, in Chromium: the banner's
// title links to the url, the alert has an "Open" link; their actions are
// links, or buttons that have Cloche call the host. Following a link or
// running an action marks the notification read (on the server) and goes
// to the link, or calls the host; in the alert, with the keyboard, inside
// its focus trap.
func TestWidgetLeadsInBrowser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			browser := browsertest.New(t)
			e := newEnv(t, b.URL(t))
			testLeads(e, browser)
		})
	}
}

// bannerJS is the banner whose title is title.
func bannerJS(title string) string {
	return all("cloche-banner", ".banner") + `.find(d => d.querySelector('.title').textContent === ` + strconv.Quote(title) + `)`
}

// linksJS lists the links and buttons of the element expr: tag, text,
// and href or the action's number.
func linksJS(expr string) string {
	return `[...` + expr + `.querySelectorAll('a.open, .action, .ack')].map(x => x.localName + ':' + x.textContent + ':' + (x.href || x.dataset.n || '')).join('|')`
}

// waitLocation waits until the tab's page is at want: the page goes away
// under the evaluation, so it asks again until it answers.
func waitLocation(tb *tab, want string) {
	tb.t.Helper()
	for deadline := time.Now().Add(time.Minute); ; {
		href, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.href`))
		if err == nil && href == want {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("the page is at %q (%v), want %q", href, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitUnread waits until the server counts n unread notifications of the
// user on channel ch.
func waitUnread(e *env, user string, ch cloche.Channel, n int) {
	e.t.Helper()
	for deadline := time.Now().Add(time.Minute); e.unread(user)[ch] != n; {
		if time.Now().After(deadline) {
			e.t.Fatalf("unread %v, want %d on %s", e.unread(user), n, ch)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// axeClean runs axe-core on the tab's page: no serious or critical
// violation.
func axeClean(tb *tab, what string) {
	tb.t.Helper()
	vs, err := browsertest.Axe(tb.ctx)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	for _, v := range vs {
		if v.Serious() {
			tb.t.Errorf("%s: %s", what, v)
		}
	}
}

func testLeads(e *env, browser *browsertest.Browser) {
	t := e.t
	var mu sync.Mutex
	var calls []string // paths the host's callbacks were called at, signed
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		if r.Method == "POST" && strings.HasPrefix(r.Header.Get("Cloche-Signature"), "v1=") {
			calls = append(calls, r.URL.Path)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message": "C’est noté"}`))
	}))
	t.Cleanup(hooks.Close)
	called := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(calls, " ")
	}
	waitCalled := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); called() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("the host was called at %q, want %q", called(), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// Banners: the title links to the url; the actions are a link and a
	// button.
	user := e.person("21")
	a := e.open(browser, "user="+user+"&lang=fr")
	b := e.open(browser, "user="+user+"&lang=fr&theme=dark")
	e.notify(map[string]any{"key": "message:system", "title": "Nouveau RIB", "user_ids": []string{user}, "force_channel": "header_message",
		"url":     e.host + "/bank?from=banner",
		"actions": []map[string]string{{"label": "Voir le RIB", "url": e.host + "/rib/1"}, {"label": "Valider", "callback": hooks.URL + "/validate"}}})
	e.notify(map[string]any{"key": "message:system", "title": "Relance", "user_ids": []string{user}, "force_channel": "header_message",
		"url": e.host + "/reminders/5"})
	a.wait("the banners", `!!(`+bannerJS("Nouveau RIB")+` && `+bannerJS("Relance")+`)`)
	if got := js[string](a, linksJS(bannerJS("Nouveau RIB"))); got != "a:Nouveau RIB:"+e.host+"/bank?from=banner|a:Voir le RIB:"+e.host+"/rib/1|button:Valider:1" {
		t.Errorf("links of the banner: %q", got)
	}
	if got := js[string](a, linksJS(bannerJS("Relance"))); got != "a:Relance:"+e.host+"/reminders/5" {
		t.Errorf("links of the banner without actions: %q", got)
	}
	// axe-core finds no serious violation, in the light and the dark theme
	// (contrast, names, target sizes).
	b.wait("the banners in the dark", `!!(`+bannerJS("Nouveau RIB")+` && `+bannerJS("Relance")+`)`)
	axeClean(a, "the banners")
	axeClean(b, "the banners, dark")
	// The targets are 24 px high at least.
	if got := js[float64](a, `Math.min(...`+all("cloche-banner", ".action, .close")+`.map(x => x.getBoundingClientRect().height))`); got < 24 {
		t.Errorf("a banner's button is %.1f px high, want 24 at least", got)
	}
	// Its callback action: Cloche calls the host, signed; the banner is read.
	js[bool](a, bannerJS("Nouveau RIB")+`.querySelector('button.action').click() || true`)
	waitCalled("/validate")
	a.wait("the banner run to leave", `!`+bannerJS("Nouveau RIB"))
	waitUnread(e, user, cloche.ChannelHeaderMessage, 1)
	// Following its title's link: read, and the page goes there.
	js[bool](a, bannerJS("Relance")+`.querySelector('a.open').click() || true`)
	waitLocation(a, e.host+"/reminders/5")
	waitUnread(e, user, cloche.ChannelHeaderMessage, 0)

	// The alert: "Ouvrir" (its url) and its actions beside the
	// acknowledgement, in the focus trap.
	b.wait("the banners gone in the dark", all("cloche-banner", ".banner")+`.length === 0`)
	e.notify(map[string]any{"key": "message:system", "title": "Contrat à signer", "user_ids": []string{user}, "force_channel": "alert",
		"url":     e.host + "/contracts/9",
		"actions": []map[string]string{{"label": "Voir le contrat", "url": e.host + "/contracts/9/pdf"}, {"label": "Signer", "callback": hooks.URL + "/sign"}}})
	e.notify(map[string]any{"key": "message:system", "title": "Congés validés", "user_ids": []string{user}, "force_channel": "alert",
		"url": e.host + "/leaves/3?from=alert"})
	dialog := in("cloche-alerts", "[role=alertdialog]")
	b.wait("the first alert", `!`+in("cloche-alerts", ".backdrop")+`.hidden && `+in("cloche-alerts", "#alert-title")+`.textContent.includes('Contrat à signer') && `+
		in("cloche-alerts", ".counter")+`.textContent === 'Alerte 1 sur 2'`)
	if got := js[string](b, linksJS(dialog)); got != "a:Ouvrir:"+e.host+"/contracts/9|a:Voir le contrat:"+e.host+"/contracts/9/pdf|button:Signer:1|button:J’ai compris:" {
		t.Errorf("links of the alert: %q", got)
	}
	if got := js[float64](b, `Math.min(...`+all("cloche-alerts", ".action, .ack")+`.map(x => x.getBoundingClientRect().height))`); got < 24 {
		t.Errorf("an alert's button is %.1f px high, want 24 at least", got)
	}
	if got := b.focused("cloche-alerts"); got != "ack" {
		t.Errorf("focus when the modal opens: %s, want the acknowledgement", got)
	}
	axeClean(b, "the alert, dark")
	// Tab goes round the three and the acknowledgement, never out.
	for i, want := range []string{"Ouvrir", "Voir le contrat", "Signer", "J’ai compris", "Ouvrir"} {
		b.key(kb.Tab)
		if got := js[string](b, `(r => (document.activeElement.localName === 'cloche-alerts' ? '' : 'outside:') + (r.activeElement ? r.activeElement.textContent : 'none'))(document.querySelector('cloche-alerts').shadowRoot)`); got != want {
			t.Errorf("after Tab %d the focus is on %q, want %q", i+1, got, want)
		}
	}
	// Signer, with the keyboard: Cloche calls the host; the alert is
	// acknowledged, and the next one shows, focused on its acknowledgement.
	b.key(kb.Tab)
	b.key(kb.Tab)
	b.key(kb.Enter)
	waitCalled("/validate /sign")
	b.wait("the next alert", in("cloche-alerts", "#alert-title")+`.textContent.includes('Congés validés') && `+in("cloche-alerts", ".counter")+`.textContent === 'Alerte 2 sur 2'`)
	waitUnread(e, user, cloche.ChannelAlert, 1)
	if got := b.focused("cloche-alerts"); got != "ack" {
		t.Errorf("focus on the next alert: %s, want its acknowledgement", got)
	}
	if got := js[string](b, linksJS(dialog)); got != "a:Ouvrir:"+e.host+"/leaves/3?from=alert|button:J’ai compris:" {
		t.Errorf("links of the second alert: %q", got)
	}
	// Ouvrir, with the keyboard: acknowledged, and the page goes there.
	b.key(kb.Tab)
	b.key(kb.Enter)
	waitLocation(b, e.host+"/leaves/3?from=alert")
	waitUnread(e, user, cloche.ChannelAlert, 0)
	if n := e.unread(user); n[cloche.ChannelHeaderMessage]+n[cloche.ChannelAlert] != 0 {
		t.Errorf("unread after following every one: %v", n)
	}
}

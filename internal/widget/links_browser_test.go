package widget_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/testdb"
)

// Notifications that lead somewhere, and the archive, in two tabs of
// Chromium: an archived item leaves both tabs and the counts, comes back
// from the archive tab; a callback action has Cloche call the host and
// shows its answer; clicking an item marks it read and opens its url.
func TestWidgetLinksInBrowser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			browser := browsertest.New(t)
			e := newEnv(t, b.URL(t))
			testLinksAndArchive(e, browser)
		})
	}
}

// itemJS is the bell's list item whose text holds title.
func itemJS(title string) string {
	return all("cloche-bell", "li.item") + `.find(li => li.textContent.includes(` + strconv.Quote(title) + `))`
}

func testLinksAndArchive(e *env, browser *browsertest.Browser) {
	t := e.t
	var mu sync.Mutex
	var calls []http.Header
	hostHooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		calls = append(calls, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"message": "Paiement enregistré"}`))
	}))
	t.Cleanup(hostHooks.Close)

	e.notify(map[string]any{"key": "message:internal", "title": "Facture 42", "body": "À régler.", "user_ids": []string{"11"},
		"url":     e.host + "/invoices/42",
		"actions": []map[string]string{{"label": "Voir le devis", "url": e.host + "/estimations/7"}, {"label": "Payer", "callback": hostHooks.URL + "/pay/42"}}})
	e.notify(map[string]any{"key": "message:internal", "title": "À archiver", "user_ids": []string{"11"}})
	a := e.open(browser, "user=11&lang=fr")
	b := e.open(browser, "user=11&lang=fr")
	a.waitBadge("2")
	b.waitBadge("2")

	// The item's links and buttons.
	a.click("cloche-bell", ".bell")
	a.wait("the list", `!!(`+itemJS("Facture 42")+` && `+itemJS("À archiver")+`)`)
	if got := js[string](a, `(li => [li.querySelector('.title a.open').href, ...[...li.querySelectorAll('.links .action')].map(x => x.localName + ':' + x.textContent + ':' + (x.href || x.dataset.n))].join('|'))(`+itemJS("Facture 42")+`)`); got !=
		e.host+"/invoices/42|a:Voir le devis:"+e.host+"/estimations/7|button:Payer:1" {
		t.Errorf("links of the item: %q", got)
	}

	// Archive in tab a: the item leaves both tabs and the counts.
	js[bool](a, itemJS("À archiver")+`.querySelector('[data-action=archive]').click() || true`)
	a.wait("the archived item to leave tab a", `!`+itemJS("À archiver"))
	b.wait("the archived item to leave tab b", `!`+itemJS("À archiver"))
	a.waitBadge("1")
	b.waitBadge("1")
	if n := e.unread("11")[cloche.ChannelMessage]; n != 1 {
		t.Errorf("%d unread after archiving one of two", n)
	}
	// The archive view lists it; brought back, it is in both inboxes again.
	a.click("cloche-bell", ".tab[data-tab=archive]")
	a.wait("the archive", all("cloche-bell", "li.item")+`.length === 1 && !!`+itemJS("À archiver"))
	js[bool](a, itemJS("À archiver")+`.querySelector('[data-action=unarchive]').click() || true`)
	a.wait("the archive to empty", all("cloche-bell", "li.item")+`.length === 0 && !`+in("cloche-bell", ".empty")+`.hidden`)
	b.wait("the item back in tab b", itemJS("À archiver")+` !== undefined`)
	b.waitBadge("2")
	a.click("cloche-bell", ".tab[data-tab=all]")
	a.wait("the inbox again", `!!(`+itemJS("À archiver")+` && `+itemJS("Facture 42")+`)`)

	// A callback action: Cloche calls the host, signed; the answer shows,
	// and the item is read in both tabs.
	js[bool](a, itemJS("Facture 42")+`.querySelector('button.action').click() || true`)
	a.wait("the host's answer", itemJS("Facture 42")+`.querySelector('.note').textContent === 'Paiement enregistré'`)
	b.waitBadge("1")
	mu.Lock()
	if len(calls) != 1 || !strings.HasPrefix(calls[0].Get("Cloche-Signature"), "v1=") || calls[0].Get("Cloche-Timestamp") == "" {
		t.Errorf("host calls %v", calls)
	}
	mu.Unlock()

	// Clicking an item (not one of its buttons) marks it read and opens
	// its url.
	e.notify(map[string]any{"key": "message:internal", "title": "Atelier demain", "user_ids": []string{"11"},
		"url": e.host + "/workshops/7?from=bell"})
	a.waitBadge("2")
	a.wait("the new item", `!!`+itemJS("Atelier demain"))
	js[bool](a, itemJS("Atelier demain")+`.querySelector('time').click() || true`)
	// The page goes away under the evaluation: ask again until it answers.
	want := e.host + "/workshops/7?from=bell"
	for deadline := time.Now().Add(time.Minute); ; {
		href, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`location.href`))
		if err == nil && href == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page is at %q (%v), want the item's url %q", href, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.wait("the item read in tab b", `!`+itemJS("Atelier demain")+`.classList.contains('unread')`)
	deadline := time.Now().Add(time.Minute)
	for e.unread("11")[cloche.ChannelMessage] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("unread %v: the clicked item was not marked read", e.unread("11"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	it, err := e.svc.Inbox(context.Background(), cloche.InboxQuery{UserID: "11", All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range it.Items {
		if x.Title == "Atelier demain" && x.ReadAt == nil {
			t.Errorf("%s: unread", x.Title)
		}
	}
}

package widget_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
)

// Issue 12: the widget on a slow or absent network, with a keyboard, a
// screen reader, a thousand notifications, filters, toasts and a dark
// theme.

// person adds a person to the directory, for one test.
func (e *env) person(id string) string {
	e.t.Helper()
	if _, err := e.svc.UpsertUser(context.Background(), cloche.UserInput{ID: cloche.ID(id), Name: "Person " + id, Locale: "en"}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// deepFocusJS describes the focused element, inside shadow roots:
// "tag.class…[action]", "body" when the focus is lost.
const deepFocusJS = `(() => {
	let a = document.activeElement;
	while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
	if (!a) return 'none';
	return a.localName + (typeof a.className === 'string' && a.className ? '.' + a.className.trim().split(/\s+/).join('.') : '') +
		(a.dataset && a.dataset.action ? '[' + a.dataset.action + ']' : '');
})()`

// wantFocus waits until the focus is on want (the widget may move it in
// a task of its own), and says where it is otherwise.
func (tb *tab) wantFocus(after, want string) {
	tb.t.Helper()
	if err := browsertest.Until(tb.ctx, deepFocusJS+` === `+strconv.Quote(want), time.Minute); err != nil {
		tb.t.Errorf("focus after %s: %s, want %s", after, js[string](tb, deepFocusJS), want)
	}
}

// After each action the focus stays on a sensible element, never the
// page's body: acknowledging an alert of a series, "Mark as read",
// "Remind me later", "Mark all as read", closing a banner; and Escape
// still closes the menu.
func testFocus(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("focus")
	a := e.open(browser, "user="+user)
	js[bool](a, `document.getElementById('before').focus() || true`)

	for i := range 3 {
		e.notify(map[string]any{"key": "message:system", "title": fmt.Sprintf("Alert %d", i), "user_ids": []string{user}})
	}
	counter := in("cloche-alerts", ".counter")
	a.wait("the series", counter+`.textContent === 'Alert 1 of 3'`)
	a.wantFocus("the modal opened", "button.ack")
	for i := 2; i <= 3; i++ {
		a.key(kb.Enter)
		a.wait("the next alert", counter+`.textContent === `+strconv.Quote(fmt.Sprintf("Alert %d of 3", i)))
		a.wantFocus(fmt.Sprintf("acknowledging alert %d", i-1), "button.ack")
	}
	a.key(kb.Enter)
	a.wait("the modal to close", in("cloche-alerts", ".backdrop")+`.hidden`)
	a.wantFocus("the last alert", "button")
	if id := js[string](a, `document.activeElement.id`); id != "before" {
		t.Errorf("focus after the series: #%s, want back on #before", id)
	}

	// The bell: mark one read, postpone one, mark all read.
	for i := range 4 {
		e.notify(map[string]any{"key": "message:internal", "title": fmt.Sprintf("Message %d", i), "user_ids": []string{user}})
	}
	a.waitBadge("4")
	js[bool](a, in("cloche-bell", ".bell")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("the items", all("cloche-bell", "li.item")+`.length === 4`)
	js[bool](a, in("cloche-bell", "li.item [data-action=toggle]")+`.focus() || true`)
	a.key(kb.Enter)
	a.waitBadge("3")
	a.wantFocus("Mark as read", "button[toggle]")
	js[bool](a, in("cloche-bell", "li.item [data-action=postpone]")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("the postponed item to go", all("cloche-bell", "li.item")+`.length === 3`)
	a.wantFocus("Remind me later", "button[toggle]")
	a.key(kb.Escape)
	a.wait("Escape to close the menu", in("cloche-bell", ".panel")+`.hidden`)
	a.wantFocus("Escape", "button.bell")

	a.key(kb.Enter)
	a.wait("the menu", `!`+in("cloche-bell", ".panel")+`.hidden`)
	js[bool](a, in("cloche-bell", "[data-action=read-all]")+`.focus() || true`)
	a.key(kb.Enter)
	a.waitBadge("")
	a.wait("the button to go", in("cloche-bell", "[data-action=read-all]")+`.hidden`)
	a.wantFocus("Mark all as read", "div.panel")
	a.key(kb.Escape)
	a.wait("Escape to close the menu", in("cloche-bell", ".panel")+`.hidden`)
	a.wantFocus("Escape", "button.bell")

	// Banners: the focus goes to the next one, then to their region.
	for i := range 2 {
		e.notify(map[string]any{"key": "message:system", "title": fmt.Sprintf("Banner %d", i), "user_ids": []string{user}, "force_channel": "header_message"})
	}
	a.wait("the banners", all("cloche-banner", ".banner")+`.length === 2`)
	js[bool](a, in("cloche-banner", ".close")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("one banner", all("cloche-banner", ".banner")+`.length === 1`)
	a.wantFocus("closing a banner", "button.close")
	a.key(kb.Enter)
	a.wait("no banner", all("cloche-banner", ".banner")+`.length === 0`)
	a.wantFocus("closing the last banner", "div.banners")
}

// Under a slow network the bell says it is loading (a skeleton,
// aria-busy), never "No notifications" or "none unread" before the
// server's first answer.
func testLoading(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("slow")
	for i := range 3 {
		e.notify(map[string]any{"key": "message:internal", "title": fmt.Sprintf("Slow %d", i), "user_ids": []string{user}})
	}
	hold := make(chan struct{})
	e.hold.Store(&hold)
	release := func() {
		if e.hold.CompareAndSwap(&hold, nil) {
			close(hold)
		}
	}
	t.Cleanup(release)
	a := e.openAnd(browser, "user="+user, nil)
	a.wait("the bell", in("cloche-bell", ".bell")+` !== null`)
	a.click("cloche-bell", ".bell")
	listView := in("cloche-bell", ".list-view")
	a.wait("the skeleton", all("cloche-bell", "li.skeleton")+`.length > 0 && `+listView+`.getAttribute('aria-busy') === 'true'`)
	text := js[string](a, in("cloche-bell", ".panel")+`.innerText + '|' + `+in("cloche-bell", ".bell")+`.getAttribute('aria-label')`)
	if strings.Contains(text, "No notifications") || strings.Contains(text, "none unread") {
		t.Errorf("before the first answer the bell says %q", text)
	}
	if !strings.Contains(text, "Notifications, loading") {
		t.Errorf("the bell's label while loading: %q", text)
	}
	release()
	a.wait("the items", all("cloche-bell", "li.item")+`.length === 3 && `+all("cloche-bell", "li.skeleton")+`.length === 0 && `+listView+`.getAttribute('aria-busy') === 'false'`)
	a.waitBadge("3")
}

// With the server down, "Mark as read" says it failed and is tried again
// until the server is back; the bell shows that it is offline.
func testFailures(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("down")
	e.notify(map[string]any{"key": "message:internal", "title": "Read me later", "user_ids": []string{user}})
	a := e.open(browser, "user="+user)
	a.waitBadge("1")
	a.click("cloche-bell", ".bell")
	a.wait("the item", all("cloche-bell", "li.item")+`.length === 1`)
	notice := in("cloche-bell", ".notice")
	if !js[bool](a, notice+`.hidden`) {
		t.Errorf("a notice while all is well: %q", js[string](a, notice+`.textContent`))
	}

	addr := strings.TrimPrefix(e.api, "http://")
	e.stopAPI()
	a.wait("the offline state", `!`+notice+`.hidden && `+notice+`.textContent.startsWith('Offline') && `+
		in("cloche-bell", ".bell")+`.getAttribute('aria-label').endsWith(', offline')`)
	js[bool](a, in("cloche-bell", "li.item [data-action=toggle]")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("the failure", `!`+notice+`.hidden && `+notice+`.textContent === 'The server could not be reached. Trying again…' && `+notice+`.getAttribute('role') === 'alert'`)
	a.wantFocus("a failed Mark as read", "button[toggle]")
	if n := e.unread(user)[cloche.ChannelMessage]; n != 1 {
		t.Fatalf("%d unread while the server was down", n)
	}
	e.serveAPI(addr)
	a.waitBadge("")
	a.wait("the notice to go", notice+`.hidden && `+in("cloche-bell", ".bell")+`.getAttribute('aria-label') === 'Notifications, none unread'`)
	if n := e.unread(user)[cloche.ChannelMessage]; n != 0 {
		t.Errorf("%d unread after the retry", n)
	}
}

// The widget's words carry their language; a new bell item is announced
// in a polite live region; action buttons are at least 24 px tall.
func testA11y(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("a11y")
	a := e.open(browser, "user="+user+"&lang=fr") // the page says en
	for _, c := range [][2]string{{"cloche-bell", "#heading"}, {"cloche-banner", ".banners"}, {"cloche-alerts", "#alert-title"}} {
		if got := js[string](a, `(x => (x.closest('[lang]') || {}).lang || 'none')(`+in(c[0], c[1])+`)`); got != "fr" {
			t.Errorf("%s: the language of its words is %s, want fr", c[0], got)
		}
	}
	live := in("cloche-bell", ".announcer[role=status][aria-live=polite]")
	if got := js[string](a, `(x => x ? x.textContent : 'none')(`+live+`)`); got != "" {
		t.Errorf("the live region before anything came: %q", got)
	}
	e.notify(map[string]any{"key": "message:internal", "title": "Annoncée", "user_ids": []string{user}})
	a.wait("the announcement", live+`.textContent === 'Nouvelle notification : Annoncée'`)
	e.notify(map[string]any{"key": "message:system", "title": "Bandeau", "user_ids": []string{user}, "force_channel": "header_message"})
	a.wait("the banner", all("cloche-banner", ".banner")+`.length === 1`)
	a.click("cloche-bell", ".bell")
	a.wait("the item", all("cloche-bell", "li.item")+`.length === 1`)
	sizes := js[string](a, `[...`+all("cloche-bell", ".panel button")+`, ...`+all("cloche-banner", "button")+`]
		.filter(b => b.getClientRects().length).map(b => (b.dataset.action || b.className) + ':' + Math.round(b.getBoundingClientRect().height * 10) / 10).join(' ')`)
	for _, f := range strings.Fields(sizes) {
		name, h, _ := strings.Cut(f, ":")
		if v, _ := strconv.ParseFloat(h, 64); v < 24 {
			t.Errorf("button %s is %s px tall, want at least 24 (all: %s)", name, h, sizes)
		}
	}
	if strings.Count(sizes, ":") < 5 {
		t.Errorf("buttons measured: %s", sizes)
	}
}

// With 1,000 notifications loaded, a live update changes one item of the
// list: a new one is added, a read one is redrawn, nothing else.
func testOneItemRedrawn(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("many")
	ctx := context.Background()
	for i := range 1000 {
		if _, err := e.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: fmt.Sprintf("N%04d", i)}, cloche.Recipients{UserIDs: []string{user}}); err != nil {
			t.Fatal(err)
		}
	}
	a := e.open(browser, "user="+user)
	a.waitBadge("99+")
	a.click("cloche-bell", ".bell")
	list := in("cloche-bell", ".list")
	// Scrolled to its end again and again, the list loads every page,
	// even when the server refuses some (429, as its rate limit does to a
	// person scrolling fast: the end of the list stays in sight, so the
	// widget must try again by itself).
	e.refusePages.Store(2)
	t.Cleanup(func() { e.refusePages.Store(0) })
	a.wait("1,000 items", `((p, l) => (p.scrollTop = 1e9,
		l.querySelectorAll('li.item').length === 1000 && !l.querySelector('.skeleton')))(`+
		in("cloche-bell", ".panel")+`, `+list+`)`)
	if n := e.refusePages.Load(); n >= 0 {
		t.Errorf("%d refusals left: the widget asked for fewer pages than it was refused", n+1)
	}
	js[bool](a, `(l => {
		window.touched = new Set();
		const mark = (n) => window.touched.add(n && n.dataset ? n.dataset.id || n.className : String(n));
		new MutationObserver((rs) => {
			for (const r of rs) {
				if (r.target === l) { [...r.addedNodes, ...r.removedNodes].forEach(mark); continue; }
				let n = r.target;
				while (n && n.parentNode !== l) n = n.parentNode;
				mark(n);
			}
		}).observe(l, { subtree: true, childList: true, attributes: true, characterData: true });
		return true;
	})(`+list+`)`)
	touched := func() string { return js[string](a, `[...window.touched].join(',')`) }

	e.notify(map[string]any{"key": "message:internal", "title": "The 1001st", "user_ids": []string{user}})
	a.wait("the new item", `(l => l.querySelectorAll('li.item').length === 1001 && l.firstElementChild.textContent.includes('The 1001st'))(`+list+`)`)
	newID := js[string](a, list+`.firstElementChild.dataset.id`)
	if got := touched(); got != newID {
		t.Errorf("a new notification changed the items %s, want only the new one (%s)", got, newID)
	}

	js[bool](a, `window.touched.clear() || true`)
	inbox, err := e.svc.Inbox(ctx, cloche.InboxQuery{UserID: user, Channel: cloche.ChannelMessage, Limit: 30})
	if err != nil {
		t.Fatal(err)
	}
	read := inbox.Items[20].ID
	if err := e.svc.MarkRead(ctx, user, read); err != nil { // in another tab, say
		t.Fatal(err)
	}
	a.wait("the item read", `!`+list+`.querySelector('li[data-id="`+strconv.FormatInt(read, 10)+`"]').classList.contains('unread')`)
	if got := touched(); got != strconv.FormatInt(read, 10) {
		t.Errorf("reading one changed the items %s, want only %d", got, read)
	}
}

// Filters: all or unread, with their counts, and by category; an empty
// state per filter.
func testFilters(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("filters")
	a := e.open(browser, "user="+user)
	for _, n := range [][2]string{{"message:internal", "Message"}, {"task:status:valid", "Task done"}, {"task:status:invalid", "Task refused"}} {
		e.notify(map[string]any{"key": n[0], "title": n[1], "user_ids": []string{user}, "force_channel": "message"})
	}
	a.waitBadge("3")
	a.click("cloche-bell", ".bell")
	a.wait("the items", all("cloche-bell", "li.item")+`.length === 3`)
	tabs := all("cloche-bell", ".tab") + `.map(b => b.textContent + (b.getAttribute('aria-pressed') === 'true' ? '*' : '')).join('|')`
	// The counts show once the list has loaded (the stream's items may
	// come first).
	a.wait("the tabs' counts", tabs+` === "All (3)*|Unread (3)|Archive"`)
	inbox, err := e.svc.Inbox(context.Background(), cloche.InboxQuery{UserID: user, Channel: cloche.ChannelMessage})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.MarkRead(context.Background(), user, inbox.Items[0].ID); err != nil { // Task refused
		t.Fatal(err)
	}
	a.waitBadge("2")
	a.click("cloche-bell", `.tab[data-tab=unread]`)
	titles := all("cloche-bell", "li.item .title") + `.map(x => x.textContent.replace(/^Unread: /, '')).join('|')`
	a.wait("the unread ones", titles+` === 'Task done|Message'`)
	if got := js[string](a, tabs); got != "All (3)|Unread (2)*|Archive" {
		t.Errorf("tabs %q", got)
	}
	sel := in("cloche-bell", "select.category")
	if got := js[string](a, `[...`+sel+`.options].map(o => o.value + '=' + o.textContent).join('|')`); got != "=Any category|message=message (1)|task=task (1)" {
		t.Errorf("categories %q", got)
	}
	js[bool](a, `(s => (s.value = 'task', s.dispatchEvent(new Event('change')), true))(`+sel+`)`)
	a.wait("the unread tasks", titles+` === 'Task done'`)
	a.click("cloche-bell", "li.item [data-action=toggle]")
	a.wait("the empty state", all("cloche-bell", "li.item")+`.length === 0 && !`+in("cloche-bell", ".empty")+`.hidden`)
	if got := js[string](a, in("cloche-bell", ".empty")+`.textContent`); got != "No notifications in this category." {
		t.Errorf("empty state of a category: %q", got)
	}
	js[bool](a, `(s => (s.value = '', s.dispatchEvent(new Event('change')), true))(`+sel+`)`)
	a.wait("the unread message", titles+` === 'Message'`)
	a.click("cloche-bell", "li.item [data-action=toggle]")
	a.wait("the empty unread tab", all("cloche-bell", "li.item")+`.length === 0 && `+in("cloche-bell", ".empty")+`.textContent === 'No unread notifications.'`)
	a.click("cloche-bell", `.tab[data-tab=all]`)
	a.wait("all of them", all("cloche-bell", "li.item")+`.length === 3 && `+in("cloche-bell", ".empty")+`.hidden`)
}

// With the toasts and desktop attributes, a new notification shows a
// toast, and a desktop notification while the page is out of sight and
// the person allowed them (the Notification API, stubbed here: headless
// chromium shows none).
func testToasts(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("toasts")
	a := e.openAnd(browser, "user="+user+"&toasts=1", func(tb *tab) {
		tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
				window.shown = [];
				window.Notification = class { static permission = 'granted'; constructor(title, o) { window.shown.push(title + '|' + o.body + '|' + o.tag); } };
				Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });`})
			return err
		}))
	})
	a.live()
	e.notify(map[string]any{"key": "message:internal", "title": "Toasted", "body": "With <b>a body</b>", "user_ids": []string{user}})
	a.wait("the toast", all("cloche-bell", ".toast")+`.length === 1 && `+in("cloche-bell", ".toast")+`.textContent.includes('Toasted')`)
	a.wait("the announcement", in("cloche-bell", ".announcer")+`.textContent === 'New notification: Toasted'`)
	a.wait("the desktop notification", `window.shown.length === 1`)
	if got := js[string](a, `window.shown[0]`); !strings.HasPrefix(got, "Toasted|With a body|cloche-") {
		t.Errorf("desktop notification %q", got)
	}
	if r := js[string](a, `(r => [r.left >= 0, r.right <= innerWidth, r.bottom <= innerHeight].join())(`+in("cloche-bell", ".toast")+`.getBoundingClientRect())`); r != "true,true,true" {
		t.Errorf("the toast is out of the viewport: %s", r)
	}
	a.click("cloche-bell", ".toast .close")
	a.wait("the toast to go", all("cloche-bell", ".toast")+`.length === 0`)
}

// The dark theme: forced by the theme attribute, or the system's with
// theme="auto", on the same custom properties.
func testDark(e *env, browser *browsertest.Browser) {
	t := e.t
	user := e.person("dark")
	bg := `getComputedStyle(` + in("cloche-bell", ".panel") + `).backgroundColor`
	for _, tc := range []struct {
		theme, scheme, want string
	}{
		{"", "dark", "rgb(255, 255, 255)"}, // the page is light
		{"dark", "light", "rgb(22, 27, 34)"},
		{"auto", "dark", "rgb(22, 27, 34)"},
		{"auto", "light", "rgb(255, 255, 255)"},
	} {
		a := e.openAnd(browser, "user="+user+"&theme="+tc.theme, func(tb *tab) {
			tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: tc.scheme}}})
				return err
			}))
		})
		a.live()
		a.click("cloche-bell", ".bell")
		if got := js[string](a, bg); got != tc.want {
			t.Errorf("theme=%q, system %s: the menu's background is %s, want %s", tc.theme, tc.scheme, got, tc.want)
		}
	}
}

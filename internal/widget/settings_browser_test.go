package widget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
)

// channelSwitch is a JavaScript expression for the settings view's switch
// of a type's channel.
func channelSwitch(typ, ch string) string {
	return in("cloche-bell", fmt.Sprintf(`input[data-type=%q][data-channel=%q]`, typ, ch))
}

// openSettings opens the bell's menu, then its settings view, and waits
// for the switches.
func (tb *tab) openSettings() {
	tb.t.Helper()
	if js[bool](tb, in("cloche-bell", ".panel")+`.hidden`) {
		tb.click("cloche-bell", ".bell")
	}
	tb.click("cloche-bell", "[data-action=settings]")
	tb.wait("the settings", `!`+in("cloche-bell", ".settings")+`.hidden && `+all("cloche-bell", "input[data-type]")+`.length > 0`)
}

// save clicks Save and waits for the answer's word.
func (tb *tab) save(want string) {
	tb.t.Helper()
	tb.click("cloche-bell", "button.save")
	tb.wait("the save", in("cloche-bell", ".status")+`.textContent === `+fmt.Sprintf("%q", want))
}

// deliveredBy is the channels an event reached user on: its e-mail
// deliveries and its in-app notifications.
func (e *env) emailed(event int64, user string) bool {
	e.t.Helper()
	ds, err := e.svc.Deliveries(context.Background(), cloche.DeliveryFilter{EventID: event, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return slices.ContainsFunc(ds, func(d cloche.Delivery) bool { return d.UserID == user })
}

func (e *env) effective(user, typ string) []cloche.Channel {
	e.t.Helper()
	p, err := e.svc.Preferences(context.Background(), user)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, tc := range p.Effective {
		if tc.Type == typ {
			return tc.Channels
		}
	}
	e.t.Fatalf("no type %s in the preferences", typ)
	return nil
}

// A person turns the bell off and e-mail on for a type in the widget's
// settings: a notification of that type no longer shows in the bell, and
// is e-mailed; turned back, it shows again. A mandatory type's default
// channel cannot be turned off; the server's field errors are shown.
func testSettings(e *env, browser *browsertest.Browser) {
	t := e.t
	const user = "11"
	a := e.open(browser, "user="+user)
	a.openSettings()
	if got := js[string](a, in("cloche-bell", ".panel")+`.getAttribute('aria-labelledby') + '|' + `+in("cloche-bell", "#settings-heading")+`.textContent`); got != "settings-heading|Notification settings" {
		t.Errorf("the settings view's dialog name: %q", got)
	}
	internal, internalMail := channelSwitch("message:internal", "message"), channelSwitch("message:internal", "email")
	if got := js[string](a, fmt.Sprintf(`[%s.checked, %s.checked, %s.closest('label').textContent, %s.closest('[role=group]').getAttribute('aria-labelledby') !== null].join('|')`,
		internal, internalMail, internal, internal)); got != "true|false|Bell — Internal message|true" {
		t.Errorf("message:internal's switches (bell, e-mail, label, group): %q", got)
	}
	sys := channelSwitch("message:system", "alert")
	if got := js[string](a, sys+`.checked + '|' + `+sys+`.disabled + '|' + `+sys+`.closest('[role=group]').textContent`); !strings.HasPrefix(got, "true|true|") || !strings.Contains(got, "(required)") {
		t.Errorf("the mandatory type's default channel: %q, want on, disabled, said required", got)
	}

	// A category's switch sets its types' (not saved here).
	cat := in("cloche-bell", `input[data-category="message"][data-channel="header_message"]`)
	js[bool](a, cat+`.click() || true`)
	if got := js[string](a, all("cloche-bell", `input[data-type^="message:"][data-channel="header_message"]`)+`.map(c => c.checked).join()`); strings.Contains(got, "false") {
		t.Errorf("after the category's switch, its types' banners: %s", got)
	}
	js[bool](a, cat+`.click() || true`)
	if got := js[bool](a, cat+`.checked || `+cat+`.indeterminate`); got {
		t.Errorf("the category's switch, turned off again, is still on")
	}
	js[bool](a, `(() => { const o = document.querySelector('cloche-bell').settings.own; for (const k of [...o.keys()]) if (k.startsWith('c ')) o.delete(k); return true; })()`)

	// Bell off, e-mail on, saved.
	js[bool](a, internal+`.click() || true`)
	js[bool](a, internalMail+`.click() || true`)
	a.save("Saved.")
	if got := e.effective(user, "message:internal"); !slices.Equal(got, []cloche.Channel{cloche.ChannelEmail}) {
		t.Fatalf("saved: message:internal reaches %s on %v, want e-mail only", user, got)
	}
	muted := e.notify(map[string]any{"key": "message:internal", "title": "Muted in the bell", "user_ids": []string{user}})
	if !e.emailed(muted, user) {
		t.Errorf("the type turned to e-mail was not e-mailed")
	}
	if n := e.unread(user)[cloche.ChannelMessage]; n != 0 {
		t.Errorf("%d unread in the bell after turning it off", n)
	}
	// A forced channel is the sender's: it shows, and the muted one does not.
	e.notify(map[string]any{"key": "message:internal", "title": "Forced", "user_ids": []string{user}, "force_channel": "message"})
	a.click("cloche-bell", "[data-action=back]")
	a.wait("the forced one in the bell", all("cloche-bell", "li.item .title")+`.some(x => x.textContent.endsWith('Forced'))`)
	if got := js[string](a, all("cloche-bell", "li.item .title")+`.map(x => x.textContent).join('|')`); strings.Contains(got, "Muted") {
		t.Errorf("the muted type shows in the bell: %s", got)
	}

	// Turned back: the bell has it again, and no e-mail.
	a.openSettings()
	if got := js[string](a, internal+`.checked + '|' + `+internalMail+`.checked`); got != "false|true" {
		t.Errorf("the saved switches read back as %s", got)
	}
	js[bool](a, internal+`.click() || true`)
	js[bool](a, internalMail+`.click() || true`)
	a.save("Saved.")
	back := e.notify(map[string]any{"key": "message:internal", "title": "Back in the bell", "user_ids": []string{user}})
	if e.emailed(back, user) {
		t.Errorf("e-mailed after turning e-mail off again")
	}
	a.click("cloche-bell", "[data-action=back]")
	a.wait("the type back in the bell", all("cloche-bell", "li.item .title")+`.some(x => x.textContent.endsWith('Back in the bell'))`)

	// A setting the server refuses: its field and message are shown, nothing saved.
	a.openSettings()
	js[bool](a, `document.querySelector('cloche-bell').settings.own.set('t nope:nope email', true) && true`)
	js[bool](a, internalMail+`.click() || true`)
	a.click("cloche-bell", "button.save")
	a.wait("the error", in("cloche-bell", ".error")+`.textContent.startsWith('Not saved:settings[2].type: unknown notification type "nope:nope"')`)
	if got := js[string](a, in("cloche-bell", ".error")+`.getAttribute('role') + '|' + `+in("cloche-bell", ".status")+`.textContent`); got != "alert|" {
		t.Errorf("the error's role and the status after a refusal: %q", got)
	}
	if got := e.effective(user, "message:internal"); !slices.Equal(got, []cloche.Channel{cloche.ChannelMessage}) {
		t.Errorf("a refused save changed the preferences: %v", got)
	}

	// The page switches to French: the open view follows.
	js[bool](a, `document.querySelector('cloche-bell').setAttribute('lang', 'fr') || true`)
	a.wait("French words", in("cloche-bell", "button.save")+`.textContent === 'Enregistrer' && `+in("cloche-bell", "#settings-heading")+`.textContent === 'Réglages des notifications'`)
}

// focusKey is what has the focus in the bell: a button's action, a
// switch's type/channel, else an id or a class.
const focusKey = `(x => x ? (x.dataset.action || (x.dataset.type ? x.dataset.type + '/' + x.dataset.channel : '') || x.id || x.className || x.localName) : 'none')(document.querySelector('cloche-bell').shadowRoot.activeElement)`

// tabTo presses Tab until want has the focus.
func (tb *tab) tabTo(want string) {
	tb.t.Helper()
	for range 200 {
		if js[string](tb, focusKey) == want {
			return
		}
		tb.key(kb.Tab)
	}
	tb.t.Fatalf("Tab never reached %s", want)
}

// The settings with the keyboard only, in French, on a 390 px wide phone:
// the view fits the screen, a switch is turned with Space, saved with
// Enter; Escape goes back to the menu, then closes it.
func testSettingsKeyboard(e *env, browser *browsertest.Browser) {
	t := e.t
	const user = "2"
	a := e.open(browser, "user="+user+"&lang=fr")
	a.do(chromedp.EmulateViewport(390, 844))
	js[bool](a, in("cloche-bell", ".bell")+`.focus() || true`)
	a.key(kb.Enter)
	a.wait("the menu to open", `!`+in("cloche-bell", ".panel")+`.hidden`)
	a.tabTo("settings")
	if got := js[string](a, in("cloche-bell", "[data-action=settings]")+`.textContent`); got != "Réglages" {
		t.Errorf("the settings button says %q", got)
	}
	a.key(kb.Enter)
	a.wait("the settings", all("cloche-bell", "input[data-type]")+`.length > 0`)
	if got := js[string](a, focusKey); got != "settings-heading" {
		t.Errorf("focus in the settings: %s, want its heading", got)
	}
	fits := js[string](a, `(p => { const r = p.getBoundingClientRect(); return [r.left >= 0, r.right <= innerWidth, r.top >= 0, r.bottom <= innerHeight, p.scrollWidth <= p.clientWidth].join(); })(`+in("cloche-bell", ".panel")+`)`)
	if fits != "true,true,true,true,true" {
		t.Errorf("the settings on a 390 px phone: left, right, top, bottom inside, no sideways scroll: %s", fits)
	}
	if got := js[string](a, in("cloche-bell", "button.save")+`.textContent + '|' + `+channelSwitch("message:internal", "email")+`.closest('label').textContent`); got != "Enregistrer|E-mail — Internal message" {
		t.Errorf("French words: %q", got)
	}
	a.tabTo("message:internal/email")
	a.key(" ")
	if !js[bool](a, channelSwitch("message:internal", "email")+`.checked`) {
		t.Fatalf("Space did not turn the switch on")
	}
	a.tabTo("save")
	a.key(kb.Enter)
	a.wait("the save", in("cloche-bell", ".status")+`.textContent === 'Enregistré.'`)
	if got := e.effective(user, "message:internal"); !slices.Contains(got, cloche.ChannelEmail) {
		t.Errorf("saved with the keyboard: message:internal reaches %v, want e-mail too", got)
	}
	a.key(kb.Escape)
	a.wait("back to the menu", in("cloche-bell", ".settings")+`.hidden && !`+in("cloche-bell", ".panel")+`.hidden`)
	if got := js[string](a, focusKey); got != "settings" {
		t.Errorf("focus back in the menu: %s, want the settings button", got)
	}
	a.key(kb.Escape)
	a.wait("the menu to close", in("cloche-bell", ".panel")+`.hidden`)
	if got := a.focused("cloche-bell"); got != "bell" {
		t.Errorf("focus after Escape: %s, want the bell", got)
	}
}

// fieldsServer stands for a server whose preference document carries the
// person-level fields (time_zone, quiet_hours, digest…), around the real
// one: their values are kept here, the settings go to the real server. A
// time zone "Mars/Olympus" is refused, as the real server refuses an
// unknown one. puts records the bodies of the PUTs.
type fieldsServer struct {
	e      *env
	mu     sync.Mutex
	fields map[string]any
	puts   []map[string]any
}

func (f *fieldsServer) serve(w http.ResponseWriter, r *http.Request, real http.Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var in map[string]any
	fwd := r.Clone(r.Context())
	if r.Method == http.MethodPut {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.puts = append(f.puts, in)
		if in["time_zone"] == "Mars/Olympus" {
			w.Header().Set("Access-Control-Allow-Origin", f.e.host)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"error": {"code": "invalid_field", "field": "time_zone", "message": "unknown time zone \"Mars/Olympus\""}}`)
			return
		}
		settings, _ := json.Marshal(map[string]any{"settings": in["settings"]})
		fwd.Body = io.NopCloser(bytes.NewReader(settings))
		fwd.ContentLength = int64(len(settings))
	}
	rec := httptest.NewRecorder()
	real.ServeHTTP(rec, fwd)
	var doc map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &doc) != nil {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	for k := range f.fields {
		if v, ok := in[k]; ok {
			f.fields[k] = v
		}
		doc[k] = f.fields[k]
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(doc)
}

// The time zone, quiet hours and digest controls show when the server's
// document carries those fields, and are sent under the contract's
// names; the browser's time zone is proposed, and taken when the person
// says so; a field the server refuses is marked.
func testSettingsFields(e *env, browser *browsertest.Browser) {
	t := e.t
	f := &fieldsServer{e: e, fields: map[string]any{
		"time_zone": "UTC", "quiet_hours": nil, "email_if_unread_minutes": nil,
		"digest": map[string]any{"frequency": "immediate", "at": "08:00", "day": "monday"}, "category_digests": []any{},
	}}
	e.fields.Store(f)
	defer e.fields.Store(nil)
	a := e.open(browser, "user=4")
	if err := chromedp.Do(a.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/St_Johns"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	a.reload()
	a.openSettings()
	zone := in("cloche-bell", "#time-zone")
	use := in("cloche-bell", "[data-action=use-zone]")
	if got := js[string](a, zone+`.value + '|' + `+use+`.textContent + '|' + `+in("cloche-bell", "label[for=time-zone]")+`.textContent`); got != "UTC|Use this device’s: America/St_Johns|Time zone" {
		t.Errorf("the time zone and the browser's proposed: %q", got)
	}
	js[bool](a, use+`.click() || true`)
	a.wait("the proposal taken", zone+`.value === 'America/St_Johns' && !`+use)

	// Quiet hours on, 22:00 to 08:00 and all the weekend; a weekly digest.
	js[bool](a, `(r => { const set = (el, v) => { if (el.type === 'checkbox') el.checked = v; else el.value = v; el.dispatchEvent(new Event('change', {bubbles: true})); };
		set(r.querySelector('#quiet-on'), true); set(r.querySelector('#quiet-start'), '22:00');
		for (const d of ['saturday', 'sunday']) set(r.querySelector('.days input[value=' + d + ']'), true);
		set(r.querySelector('#digest-frequency'), 'weekly'); set(r.querySelector('#digest-day'), 'friday'); set(r.querySelector('#digest-at'), '07:30');
		return true; })(document.querySelector('cloche-bell').shadowRoot)`)
	if got := js[string](a, in("cloche-bell", "#digest-at")+`.closest('.line').hidden + '|' + `+in("cloche-bell", "#digest-day")+`.closest('.line').hidden`); got != "false|false" {
		t.Errorf("a weekly digest's time and day hidden: %s", got)
	}
	a.save("Saved.")
	f.mu.Lock()
	put, _ := json.Marshal(f.puts[len(f.puts)-1])
	f.mu.Unlock()
	const want = `{"category_digests":[],"digest":{"at":"07:30","day":"friday","frequency":"weekly"},"email_if_unread_minutes":null,` +
		`"quiet_hours":{"days":["saturday","sunday"],"end":"08:00","start":"22:00"},"settings":[],"time_zone":"America/St_Johns"}`
	if string(put) != want {
		t.Errorf("PUT body\n got %s\nwant %s", put, want)
	}
	// Read back after a reload of the page.
	a.reload()
	a.openSettings()
	if got := js[string](a, `[`+zone+`.value, `+in("cloche-bell", "#quiet-on")+`.checked, `+in("cloche-bell", "#quiet-start")+`.value, `+in("cloche-bell", "#digest-frequency")+`.value].join('|')`); got != "America/St_Johns|true|22:00|weekly" {
		t.Errorf("read back: %s", got)
	}

	// Refused: the field is named, marked and focused.
	js[bool](a, `(`+zone+`.value = 'Mars/Olympus', true)`)
	a.click("cloche-bell", "button.save")
	a.wait("the error", in("cloche-bell", ".error")+`.textContent.includes('time_zone: unknown time zone "Mars/Olympus"')`)
	if got := js[string](a, zone+`.getAttribute('aria-invalid') + '|' + `+zone+`.getAttribute('aria-describedby') + '|' + `+focusKey); got != "true|settings-error|time-zone" {
		t.Errorf("the refused field: %s", got)
	}
}

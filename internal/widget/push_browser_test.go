package widget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/push/pushtest"
	"github.com/cloche/cloche/internal/testdb"
)

const pushSubject = "mailto:ops@cloche.test"

// standInPushManager replaces PushManager.subscribe and getSubscription in
// the page: chromium subscribes through Google's push service (GCM), which
// a test without network cannot reach (subscribe never settles). The
// stand-in answers with a subscription of the test's push service, whose
// keys the test holds, and records the applicationServerKey it was given.
// Everything else is the browser's: the permission, the service worker's
// registration and activation, the push event, the notification.
const standInPushManager = `(() => {
  const sub = %s;
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const bytes = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  const make = (key) => ({
    endpoint: sub.endpoint, expirationTime: null, options: { userVisibleOnly: true, applicationServerKey: bytes(key).buffer },
    toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
    unsubscribe: async () => { localStorage.removeItem('standin-push'); return true; },
  });
  PushManager.prototype.subscribe = async function (opts) {
    const key = b64(opts.applicationServerKey);
    window.__clocheServerKey = key;
    localStorage.setItem('standin-push', key);
    return make(key);
  };
  PushManager.prototype.getSubscription = async function () {
    const key = localStorage.getItem('standin-push');
    return key ? make(key) : null;
  };
})();`

func TestPushInBrowser(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			// Notifications go to chromium's own message center: the
			// desktop's notification server (D-Bus), absent here, would
			// take them and drop them.
			browser := browsertest.New(t, "disable-features=NativeNotifications,SystemNotifications")
			e := newEnvWith(t, b.URL(t), func(c *cloche.Config) {
				c.Push.Subject = pushSubject
				c.Push.AllowLoopback = true
			})
			testPushOptIn(t, e, browser)
		})
	}
}

func testPushOptIn(t *testing.T, e *env, browser *browsertest.Browser) {
	ctx := context.Background()
	publicKey, err := e.svc.PushPublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ps := pushtest.New(t, publicKey, pushSubject)
	sub := ps.Subscribe()
	stand, _ := json.Marshal(map[string]any{"endpoint": sub.Endpoint, "keys": map[string]string{"p256dh": sub.P256dh, "auth": sub.Auth}})

	tb := &tab{t: t, ctx: browser.Tab(t)}
	tb.console = browsertest.WatchConsole(tb.ctx)
	t.Cleanup(tb.checkConsole)
	registrations := make(chan serviceworker.RegistrationID, 16)
	tb.do(chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: fmt.Sprintf(standInPushManager, stand)})
		if err != nil {
			return chromedp.Void{}, err
		}
		events := cdp.Events(tb.ctx, tg, serviceworker.WorkerRegistrationUpdated)
		if _, err := cdp.Call(ctx, tg, serviceworker.Enable, cdp.Empty{}); err != nil {
			return chromedp.Void{}, err
		}
		go func() {
			for ev, err := range events {
				if err != nil {
					return
				}
				for _, r := range ev.Registrations {
					if !r.IsDeleted && r.ScopeURL == e.host+"/" {
						select {
						case registrations <- r.RegistrationID:
						default:
						}
					}
				}
			}
		}()
		return chromedp.Void{}, nil
	}))
	// The permission, as a person's click on "Allow" gives it.
	if err := chromedp.FromContext(tb.ctx).Browser.Call(tb.ctx, "Browser.grantPermissions",
		map[string]any{"origin": e.host, "permissions": []string{"notifications"}}, nil); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.Navigate(e.host + "/app?user=10&lang=en"))
	tb.live()
	if got := js[string](tb, `Notification.permission + ' ' + String(window.__clocheServerKey)`); got != "granted undefined" {
		t.Fatalf("on page load: %q; want nothing subscribed", got)
	}

	// The bell's menu offers it; one click turns it on.
	tb.click("cloche-bell", ".bell")
	row := in("cloche-bell", ".push")
	tb.wait("the offer", row+`.dataset.state === 'off' && !`+row+`.hidden && `+in("cloche-bell", ".push .link")+`.textContent === 'Turn on desktop notifications'`)
	tb.click("cloche-bell", ".push .link")
	tb.wait("desktop notifications on", row+`.dataset.state === 'on' && `+in("cloche-bell", ".push .link")+`.textContent === 'Turn off desktop notifications'`)
	if got := js[string](tb, `window.__clocheServerKey`); got != publicKey {
		t.Errorf("subscribed with key %q, want the server's %q", got, publicKey)
	}
	waitAsync(tb, "the worker", `navigator.serviceWorker.getRegistration('/').then(r => r && r.active && r.active.scriptURL === location.origin + '/cloche-sw.js')`)
	subs, err := e.svc.PushSubscriptions(ctx, []string{"10"})
	if err != nil || len(subs) != 1 || subs[0].Endpoint != sub.Endpoint || subs[0].P256dh != sub.P256dh {
		t.Fatalf("user 10's subscriptions: %+v %v; want the browser's", subs, err)
	}
	var reg serviceworker.RegistrationID
	select {
	case reg = <-registrations:
	case <-time.After(time.Minute):
		t.Fatal("no ServiceWorker.workerRegistrationUpdated for the host's scope")
	}

	// A notification on the push channel reaches the push service: the
	// payload it decrypts is what the worker receives.
	e.notify(map[string]any{"key": "message:internal", "title": "Server restarted", "body": "See <a href=\"https://status.example/42\">the status page</a>.",
		"user_ids": []string{"10"}, "force_channel": "push"})
	payload := pushPayload(t, ps, sub.ID)
	var p struct {
		NotificationID int64  `json:"notification_id"`
		Title          string `json:"title"`
		URL            string `json:"url"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.NotificationID == 0 || p.Title != "Server restarted" || p.URL != "https://status.example/42" {
		t.Fatalf("payload %s (%v)", payload, err)
	}
	// Delivered to the worker. Chromium drops, now and then, the
	// notification a push event shows right after the worker's first
	// activation (getNotifications never lists it, though showNotification
	// resolved): the push is delivered again, as a push service does, until
	// it shows.
	shown := `navigator.serviceWorker.getRegistration('/').then(r => r.getNotifications()).then(ns => ns.length === 1 && ns[0].title === 'Server restarted' && ns[0].body === 'See the status page (https://status.example/42).' && ns[0].tag === 'cloche-` + strconv.FormatInt(p.NotificationID, 10) + `')`
	for attempt := 1; ; attempt++ {
		tb.do(chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
				Origin: e.host, RegistrationID: reg, Data: string(payload)})
			return chromedp.Void{}, err
		}))
		if waitAsyncFor(tb, shown, 5*time.Second) {
			t.Logf("the notification showed after %d deliveries", attempt)
			break
		}
		if attempt == 10 {
			t.Fatalf("no notification after %d deliveries of the push", attempt)
		}
	}
	worker := e.host + "/cloche-sw.js"

	// Headless chromium shows no system notification to click: the
	// worker's notificationclick listener is run through the protocol,
	// with the notification the browser holds.
	clickInWorker(t, tb, worker)
	deadline := time.Now().Add(time.Minute)
	for {
		it, err := e.svc.Notification(ctx, "10", p.NotificationID)
		if err != nil {
			t.Fatal(err)
		}
		if it.ReadAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the click did not mark the notification read")
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitAsync(tb, "the notification closed", `navigator.serviceWorker.getRegistration('/').then(r => r.getNotifications()).then(ns => ns.length === 0)`)

	// Turned off: the subscription is forgotten.
	tb.click("cloche-bell", ".push .link")
	tb.wait("desktop notifications off", row+`.dataset.state === 'off'`)
	if subs, _ := e.svc.PushSubscriptions(ctx, []string{"10"}); len(subs) != 0 {
		t.Errorf("after turning off: %+v", subs)
	}
}

// clickInWorker runs, in the service worker of scriptURL, its
// notificationclick listeners for the first notification shown: it
// attaches to the worker's target (a session of its own, through the
// browser's connection) and evaluates there.
func clickInWorker(t *testing.T, tb *tab, scriptURL string) {
	t.Helper()
	const expr = `self.registration.getNotifications().then(ns => {
		const n = ns.find(n => n.data && n.data.cloche);
		if (!n) return 'no notification';
		self.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
		return 'clicked';
	})`
	if got := evalInWorker(t, tb, scriptURL, expr); got != "clicked" {
		t.Fatalf("notificationclick in the worker: %s", got)
	}
}

// evalInWorker evaluates the promise expr in the service worker of
// scriptURL: it attaches to the worker's target (a session of its own,
// through the browser's connection) and evaluates there. It returns the
// answer's value, or the whole answer when it is not a string.
func evalInWorker(t *testing.T, tb *tab, scriptURL, expr string) string {
	t.Helper()
	b := chromedp.FromContext(tb.ctx).Browser
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	var targets struct {
		TargetInfos []struct {
			TargetID string `json:"targetId"`
			Type     string `json:"type"`
			URL      string `json:"url"`
		} `json:"targetInfos"`
	}
	if err := b.Call(ctx, "Target.getTargets", map[string]any{}, &targets); err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, ti := range targets.TargetInfos {
		if ti.Type == "service_worker" && ti.URL == scriptURL {
			id = ti.TargetID
		}
	}
	if id == "" {
		t.Fatalf("no service worker target for %s among %+v", scriptURL, targets.TargetInfos)
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.Call(ctx, "Target.attachToTarget", map[string]any{"targetId": id, "flatten": false}, &att); err != nil {
		t.Fatal(err)
	}
	defer b.Call(context.WithoutCancel(ctx), "Target.detachFromTarget", map[string]any{"sessionId": att.SessionID}, nil)
	replies, stop := b.Subscribe("Target.receivedMessageFromTarget")
	defer stop()
	msg, _ := json.Marshal(map[string]any{"id": 1, "method": "Runtime.evaluate",
		"params": map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}})
	if err := b.Call(ctx, "Target.sendMessageToTarget", map[string]any{"sessionId": att.SessionID, "message": string(msg)}, nil); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case raw := <-replies:
			var ev struct {
				SessionID string `json:"sessionId"`
				Message   string `json:"message"`
			}
			if json.Unmarshal(raw, &ev) != nil || ev.SessionID != att.SessionID {
				continue
			}
			var reply struct {
				ID     int `json:"id"`
				Result struct {
					Result struct {
						Value any `json:"value"`
					} `json:"result"`
					ExceptionDetails any `json:"exceptionDetails"`
				} `json:"result"`
			}
			if json.Unmarshal([]byte(ev.Message), &reply) != nil || reply.ID != 1 {
				continue
			}
			if v, ok := reply.Result.Result.Value.(string); ok && reply.Result.ExceptionDetails == nil {
				return v
			}
			return ev.Message
		case <-ctx.Done():
			t.Fatal("no answer from the service worker")
			return ""
		}
	}
}

// waitInWorker waits until the promise expr, evaluated in the service
// worker of scriptURL, resolves to true, for at most a minute.
func waitInWorker(t *testing.T, tb *tab, scriptURL, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := evalInWorker(t, tb, scriptURL, `Promise.resolve().then(() => `+expr+`).then(ok => String(ok), err => String(err))`)
		if got == "true" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s is %s", what, expr, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitAsync waits until the promise expr resolves to true, for at most a
// minute.
func waitAsync(tb *tab, what, expr string) {
	tb.t.Helper()
	if !waitAsyncFor(tb, expr, time.Minute) {
		tb.t.Fatalf("waiting for %s: %s is still not true", what, expr)
	}
}

// waitAsyncFor reports whether the promise expr resolves to true within d.
func waitAsyncFor(tb *tab, expr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`Promise.resolve().then(() => `+expr+`).catch(() => false)`, chromedp.EvalAwaitPromise))
		if err == nil && ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pushPayload is the payload of the push the service received for
// subscription sub, decrypted with its keys.
func pushPayload(t *testing.T, ps *pushtest.Server, sub string) []byte {
	t.Helper()
	got := ps.Wait(t, "the push", func(p []pushtest.Push) bool { return len(p) > 0 })
	if p := got[0]; p.Subscription != sub || p.Err != nil || p.Urgency != "normal" {
		t.Fatalf("push %+v: want one to %s, decrypted, of normal urgency", p, sub)
	}
	return got[0].Payload
}

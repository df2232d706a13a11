package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestZZProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body>x</body></html>`)
	})
	mux.HandleFunc("/sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(w, `self.addEventListener('push', e => { e.waitUntil(self.registration.showNotification('hi', {body: e.data ? e.data.text() : ''})); });`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	b := New(t)
	ctx := b.Tab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	err := chromedp.FromContext(ctx).Browser.Call(ctx, "Browser.grantPermissions", map[string]any{"origin": srv.URL, "permissions": []string{"notifications"}}, nil)
	t.Logf("grant: %v", err)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
	  try {
	    const reg = await navigator.serviceWorker.register('/sw.js');
	    await navigator.serviceWorker.ready;
	    const perm = Notification.permission;
	    const key = Uint8Array.from(atob('BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM'.replace(/-/g,'+').replace(/_/g,'/')), c => c.charCodeAt(0));
	    const s = await Promise.race([reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key}), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout 20s')), 20000))]);
	    return perm + ' ' + JSON.stringify(s.toJSON());
	  } catch (e) { return 'ERR ' + Notification.permission + ' ' + e.name + ': ' + e.message; }
	})()`, chromedp.EvalAwaitPromise))
	t.Logf("result: %v %s", err, res)
	_ = context.Background
}

package main

import (
	"context"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/testdb"
)

// `cloche serve --demo` in a browser: what the console sends shows at once
// on the demo page in another tab; and when the server restarts on the
// same port and database, what was sent while it was down shows there
// too, without a reload.
func TestDemoInBrowserAcrossRestart(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			browser := browsertest.New(t)
			const password = "a long demo passphrase"
			env := []string{"CLOCHE_CONSOLE__ADMIN_PASSWORD=" + password, "CLOCHE_REALTIME__RETRY=200ms"}
			srv := startServe(t, bin, url, "127.0.0.1:0", env, "--demo")
			defer func() { srv.stop(t) }()
			base := "http://" + srv.addr

			do := func(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, steps...); err != nil {
					t.Fatal(err)
				}
			}
			until := func(ctx context.Context, what, expr string) {
				t.Helper()
				if err := browsertest.Until(ctx, expr, 15*time.Second); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}
			submit := func(ctx context.Context) {
				t.Helper()
				_, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("main form button[type=submit]"))))
				if err != nil {
					t.Fatal(err)
				}
			}
			badge := browsertest.InShadow("cloche-bell", ".badge")
			live := `document.querySelector('cloche-bell').getAttribute('connection') === 'live'`

			page := browser.Tab(t)
			do(page, chromedp.Navigate(base+"/demo?user=1"), chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
			until(page, "the demo page's stream", live)

			// The console, in another tab, sends to Alice: the bell counts
			// it, then an alert opens.
			console := browser.Tab(t)
			do(console, chromedp.Navigate(base+"/console/"), chromedp.SendKeys(chromedp.ID("password"), password))
			submit(console)
			send := func(key, title string) {
				t.Helper()
				do(console, chromedp.Navigate(base+"/console/send"),
					chromedp.SetValue(chromedp.ID("key"), key),
					chromedp.SetValue(chromedp.ID("user_ids"), "1"),
					chromedp.SetValue(chromedp.ID("title"), title))
				submit(console)
			}
			send("message:internal", "Hello from the console")
			until(page, "the bell to count the console's message", badge+`.textContent === '1' && !`+badge+`.hidden`)
			send("message:system", "Alert from the console")
			until(page, "the console's alert", `!`+browsertest.InShadow("cloche-alerts", ".backdrop")+`.hidden && `+
				browsertest.InShadow("cloche-alerts", "#alert-title")+`.textContent.includes('Alert from the console')`)
			do(page, chromedp.Evaluate[chromedp.Void](browsertest.InShadow("cloche-alerts", ".ack")+`.click()`))
			until(page, "the alert to close", browsertest.InShadow("cloche-alerts", ".backdrop")+`.hidden`)

			// The server stops; a notification is sent meanwhile; it comes
			// back on the same port.
			srv.stop(t)
			until(page, "the page to lose its stream", `!(`+live+`)`)
			run(t, bin, url, "notify", "-k", "message:internal", "--title", "Sent while the server was down", "-u", "1")
			srv = startServe(t, bin, url, srv.addr, env, "--demo")
			until(page, "the bell to count what was sent while the server was down", badge+`.textContent === '2'`)
			until(page, "it in the bell's menu", browsertest.InShadow("cloche-bell", "li.item .title")+`.textContent.endsWith('Sent while the server was down')`)
			until(page, "the stream back", live)
			if same, err := chromedp.Run(page, chromedp.Evaluate[bool](`window.sameDocument === true`)); err != nil || !same {
				t.Errorf("the demo page was reloaded (%v)", err)
			}
		})
	}
}

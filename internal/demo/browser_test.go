package demo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
)

// The demo page and its widget in a browser (issue 12): on a phone, the
// page wraps and the widget's menu and modal stay inside the screen,
// wherever the bell is; the bell's focus ring shows on the dark header;
// axe-core finds no serious violation with the menu and the settings
// open. (Layout and colours do not depend on the database: SQLite only.)
func TestDemoInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	d := startDemo(t)
	for i := range 3 {
		d.notify(t, "message:internal", fmt.Sprintf("Message %d with a rather long title that wraps on a phone", i), "Its body.", "")
	}
	t.Run("phone", func(t *testing.T) { testPhone(t, browser, d) })
	t.Run("focus_ring", func(t *testing.T) { testFocusRing(t, browser, d) })
	t.Run("axe", func(t *testing.T) { testAxe(t, browser, d) })
}

func until(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	if err := browsertest.Until(tab, expr, time.Minute); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// box is the JavaScript for the viewport rectangle of expr's element,
// "left,top,right,bottom" rounded to the pixel, and whether it is inside
// the layout viewport.
func box(tab context.Context, t *testing.T, what, expr string) {
	t.Helper()
	got := evalString(t, tab, `((r, w, h) => [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom), w, h,
		r.left >= 0 && r.top >= 0 && r.right <= w && r.bottom <= h && r.width > 0].join())(`+expr+`.getBoundingClientRect(),
		document.documentElement.clientWidth, document.documentElement.clientHeight)`)
	if !strings.HasSuffix(got, ",true") {
		t.Errorf("%s is not inside the viewport: left,top,right,bottom,width,height = %s", what, got)
	}
}

func testPhone(t *testing.T, browser *browsertest.Browser, d *demoServer) {
	shadow := browsertest.InShadow
	tab := browser.Tab(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(d.base+"/demo?user=1")); err != nil {
		t.Fatal(err)
	}
	until(t, tab, "the bell's count", shadow("cloche-bell", ".badge")+`.textContent === '3'`)
	if got := evalString(t, tab, `[document.documentElement.clientWidth, document.documentElement.scrollWidth, Math.round(document.querySelector('header.app').getBoundingClientRect().right)].join()`); got != "390,390,390" {
		t.Errorf("the page on a phone: viewport, page and header widths %s, want 390 each (the header wraps)", got)
	}
	box(tab, t, "the bell", shadow("cloche-bell", ".bell"))
	for _, where := range []string{"right", "left"} {
		if where == "left" { // the host puts the bell first in its header
			evalBool(t, tab, `(document.querySelector('header.app').prepend(document.querySelector('cloche-bell')), true)`)
		}
		evalBool(t, tab, shadow("cloche-bell", ".bell")+`.click() || true`)
		until(t, tab, "the menu", shadow("cloche-bell", ".panel")+`.querySelectorAll('li.item').length === 3`)
		box(tab, t, "the bell at the "+where, shadow("cloche-bell", ".bell"))
		box(tab, t, "the menu of a bell at the "+where, shadow("cloche-bell", ".panel"))
		evalBool(t, tab, shadow("cloche-bell", ".bell")+`.click() || true`)
		until(t, tab, "the menu to close", shadow("cloche-bell", ".panel")+`.hidden`)
	}
	d.notify(t, "message:system", "An alert, on a phone", "Its body, long enough to fill a few lines of the modal on a narrow screen, and then some.", "")
	until(t, tab, "the modal", `!`+shadow("cloche-alerts", ".backdrop")+`.hidden`)
	box(tab, t, "the alert's modal", shadow("cloche-alerts", ".dialog"))
	box(tab, t, "the alert's button", shadow("cloche-alerts", ".ack"))
	evalBool(t, tab, shadow("cloche-alerts", ".ack")+`.click() || true`)
	until(t, tab, "the modal to close", shadow("cloche-alerts", ".backdrop")+`.hidden`)
}

// contrast is the JavaScript for the WCAG contrast ratio of two
// computed colours, "rgb(…)" or "rgba(…)".
const contrast = `((a, b) => {
	const lum = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
		.reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
	const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
	return (x + 0.05) / (y + 0.05);
})`

// The bell's focus ring, reached with the keyboard, stands out of the
// dark header by at least 3:1 (WCAG 2.2, 1.4.11), in its own custom
// property.
func testFocusRing(t *testing.T, browser *browsertest.Browser, d *demoServer) {
	shadow := browsertest.InShadow
	tab := browser.Tab(t)
	if err := chromedp.Do(tab, chromedp.Navigate(d.base+"/demo?user=1")); err != nil {
		t.Fatal(err)
	}
	until(t, tab, "the bell", shadow("cloche-bell", ".badge")+`.textContent === '3'`)
	evalBool(t, tab, `document.querySelector('.switch button').focus() || true`)
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	until(t, tab, "the bell's focus", shadow("cloche-bell", ".bell")+`.matches(':focus-visible')`)
	bell := `getComputedStyle(` + shadow("cloche-bell", ".bell") + `)`
	header := `getComputedStyle(document.querySelector('header.app')).backgroundColor`
	got := evalString(t, tab, `[`+bell+`.outlineStyle, `+bell+`.outlineWidth, `+bell+`.outlineColor, `+header+`, `+contrast+`(`+bell+`.outlineColor, `+header+`).toFixed(2)].join('|')`)
	parts := strings.Split(got, "|")
	var ratio float64
	fmt.Sscan(parts[len(parts)-1], &ratio)
	if parts[0] == "none" || ratio < 3 {
		t.Errorf("the bell's focus ring on the header (style|width|colour|header|ratio): %s, want a ring of 3:1 at least", got)
	}
	evalBool(t, tab, `(document.querySelector('cloche-bell').style.setProperty('--cloche-bell-focus', 'rgb(255, 0, 0)'), true)`)
	if c := evalString(t, tab, bell+`.outlineColor`); c != "rgb(255, 0, 0)" {
		t.Errorf("--cloche-bell-focus does not set the ring's colour: %s", c)
	}
}

// axe-core, in the browser, on the demo page with the bell's menu open,
// then with its settings view open, in the light and in the dark: no
// serious or critical violation. (A tab each: axe takes its time on a
// loaded machine, and a tab lives two minutes at most.)
func testAxe(t *testing.T, browser *browsertest.Browser, d *demoServer) {
	shadow := browsertest.InShadow
	d.notify(t, "message:system", "A banner", "With a <a href=\"https://example.org/x\">link</a>.", cloche.ChannelHeaderMessage)
	open := func(dark, settings bool) context.Context {
		t.Helper()
		tab := browser.Tab(t)
		var steps []chromedp.Action[chromedp.Void]
		if dark {
			steps = append(steps, darkScheme())
		}
		if err := chromedp.Do(tab, append(steps, chromedp.Navigate(d.base+"/demo?user=1"))...); err != nil {
			t.Fatal(err)
		}
		until(t, tab, "the banner", shadow("cloche-banner", ".banner")+` !== null`)
		evalBool(t, tab, shadow("cloche-bell", ".bell")+`.click() || true`)
		until(t, tab, "the menu", shadow("cloche-bell", ".panel")+`.querySelectorAll('li.item').length === 3`)
		if settings {
			evalBool(t, tab, shadow("cloche-bell", "[data-action=settings]")+`.click() || true`)
			until(t, tab, "the settings", shadow("cloche-bell", "input[data-type]")+` !== null`)
		}
		return tab
	}
	var last context.Context
	for _, dark := range []bool{false, true} {
		for _, settings := range []bool{false, true} {
			view := map[bool]string{false: "light", true: "dark"}[dark] + ", " + map[bool]string{false: "the bell's menu open", true: "the settings view open"}[settings]
			last = open(dark, settings)
			vs, err := browsertest.Axe(last)
			if err != nil {
				t.Fatal(err)
			}
			var minor []string
			serious := 0
			for _, v := range vs {
				if v.Serious() {
					serious++
					t.Errorf("axe-core %s, %s: %s", browsertest.AxeVersion, view, v)
				} else {
					minor = append(minor, v.ID+" ("+v.Impact+")")
				}
			}
			t.Logf("axe-core %s, %s: %d violations, %d serious or critical; minor or moderate: %v", browsertest.AxeVersion, view, len(vs), serious, minor)
		}
	}

	// axe reaches into the widget's shadow roots: a nameless button put
	// there is found.
	evalBool(t, last, `(document.querySelector('cloche-bell').shadowRoot.querySelector('.panel').append(document.createElement('button')), true)`)
	vs, err := browsertest.Axe(last, "button-name")
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 1 || vs[0].ID != "button-name" {
		t.Errorf("axe did not find a nameless button in the bell's shadow root: %v", vs)
	}
}

package demo_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/browsertest"
	"github.com/cloche/cloche/internal/demo"
	"github.com/cloche/cloche/internal/httpapi"
	"github.com/cloche/cloche/internal/testdb"
	"github.com/cloche/cloche/internal/widget"
)

// EnvScreenshots set to 1 makes TestDemoScreenshot write the README's
// screenshot (docs/screenshots/demo-page.png) instead of a temporary file.
const EnvScreenshots = "CLOCHE_SCREENSHOTS"

// TestDemoScreenshot photographs the demo page of `cloche serve --demo`
// with the bell open, a banner and an alert: into
// docs/screenshots/demo-page.png with CLOCHE_SCREENSHOTS=1, else into a
// temporary folder. On the way, it checks that the page's widget, under
// the page's strict policy, shows what is sent.
// demoServer is `cloche serve --demo` in a test: the demo directory
// loaded, the API, the widget and the demo page on a loopback port.
type demoServer struct {
	svc  *cloche.Service
	base string // http://127.0.0.1:port
}

func startDemo(t *testing.T) *demoServer {
	t.Helper()
	ctx := context.Background()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = testdb.SQLiteURL(t)
	cfg.TimeZone = "Europe/Paris"
	svc, err := cloche.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop(context.Background()) })
	if _, err := demo.Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	page, err := demo.NewPage(svc, "/console", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpapi.New(svc, httpapi.Options{Streamer: svc.Streamer(),
		Mount: []func(*http.ServeMux){widget.New().Register, page.Register}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return &demoServer{svc: svc, base: "http://" + ln.Addr().String()}
}

// notify sends to user 1 (Alice), on ch when not empty.
func (d *demoServer) notify(t *testing.T, key, title, body string, ch cloche.Channel) int64 {
	t.Helper()
	return d.send(t, cloche.Notification{Key: key, Title: title, Body: body}, ch)
}

// send sends n to user 1 (Alice), on ch when not empty.
func (d *demoServer) send(t *testing.T, n cloche.Notification, ch cloche.Channel) int64 {
	t.Helper()
	var opts []cloche.NotifyOption
	if ch != "" {
		opts = append(opts, cloche.ForceChannel(ch))
	}
	res, err := d.svc.Notify(context.Background(), n, cloche.Recipients{UserIDs: []string{"1"}}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res.EventID
}

func TestDemoScreenshot(t *testing.T) {
	browser := browsertest.New(t)
	ctx := context.Background()
	d := startDemo(t)
	svc := d.svc
	notify := func(key, title, body string, ch cloche.Channel) int64 {
		t.Helper()
		return d.notify(t, key, title, body, ch)
	}
	notify("workshop:reminder", "Atelier « Fixer ses prix » jeudi à 14 h", "Salle 3, inscription conseillée.", "")
	notify("task:status:invalid", "Devis D-2026-017 refusé", "Le montant de la ligne 2 est à revoir.", cloche.ChannelMessage)
	notify("userdata:reminder", "Dossier social à compléter", "Il manque votre <strong>attestation de domicile</strong>.", "")
	notify("task:status:valid", "Facture F-2026-041 validée", "", cloche.ChannelMessage)
	notify("message:internal", "Assemblée générale le 12 juin", "L'ordre du jour est en ligne : https://coop.example.org/ag", "")
	inbox, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: "1", Channel: cloche.ChannelMessage})
	if err != nil || len(inbox.Items) != 5 {
		t.Fatalf("inbox: %v %v", inbox, err)
	}
	if err := svc.MarkRead(ctx, "1", inbox.Items[4].ID); err != nil { // the oldest, read
		t.Fatal(err)
	}

	tab := browser.Tab(t)
	console := browsertest.WatchConsole(tab)
	wait := func(what, expr string) {
		t.Helper()
		if err := browsertest.Until(tab, expr, time.Minute); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	shadow := browsertest.InShadow
	if err := chromedp.Do(tab, chromedp.Navigate(d.base+"/demo?user=1")); err != nil {
		t.Fatal(err)
	}
	wait("the bell's count", shadow("cloche-bell", ".badge")+`.textContent === '4'`)
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](shadow("cloche-bell", ".bell")+`.click() || true`)); err != nil {
		t.Fatal(err)
	}
	wait("the bell's menu", shadow("cloche-bell", ".panel")+`.querySelectorAll('li').length === 5`)
	// The banner and the alert lead somewhere: a url, and actions.
	d.send(t, cloche.Notification{Key: "message:system", Title: "Maintenance ce soir de 22 h à 23 h", Body: "Cloche et la gestion seront indisponibles une heure.",
		URL: "https://coop.example.org/maintenance", Actions: []cloche.Action{{Label: "Voir le détail", URL: "https://coop.example.org/maintenance#detail"}}}, cloche.ChannelHeaderMessage)
	wait("the banner", shadow("cloche-banner", ".banner .action")+` !== null`)
	d.send(t, cloche.Notification{Key: "message:system", Title: "Nouvelles coordonnées bancaires",
		Body: "La coopérative change de banque au 1er juillet : pensez à mettre à jour vos <a href=\"https://coop.example.org/rib\">virements permanents</a>.",
		URL:  "https://coop.example.org/rib", Actions: []cloche.Action{{Label: "Télécharger le RIB", URL: "https://coop.example.org/rib.pdf"}}}, "")
	wait("the modal", `!`+shadow("cloche-alerts", ".backdrop")+`.hidden && `+shadow("cloche-alerts", ".buttons .action")+` !== null`)
	if open := `!` + shadow("cloche-bell", ".panel") + `.hidden`; !evalBool(t, tab, open) {
		t.Errorf("the bell's menu closed when the alert opened")
	}
	for _, m := range console.Messages() {
		if m.IsException() || m.Type == chromedp.ConsoleError {
			t.Errorf("browser console: %s %s %s", m.Source, m.Type, m.Text)
		}
	}

	shoot(t, tab, "demo-page.png")

	// On a phone, the alert acknowledged, then the bell's menu.
	phone := browser.Tab(t)
	if err := chromedp.Do(phone, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(d.base+"/demo?user=1")); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Until(phone, `!`+shadow("cloche-alerts", ".backdrop")+`.hidden`, time.Minute); err != nil {
		t.Fatal(err)
	}
	shoot(t, phone, "demo-phone-alert.png")
	evalBool(t, phone, shadow("cloche-alerts", ".ack")+`.click() || true`)
	if err := browsertest.Until(phone, shadow("cloche-alerts", ".backdrop")+`.hidden && `+shadow("cloche-bell", ".badge")+`.textContent === '4'`, time.Minute); err != nil {
		t.Fatal(err)
	}
	evalBool(t, phone, shadow("cloche-bell", ".bell")+`.click() || true`)
	if err := browsertest.Until(phone, shadow("cloche-bell", ".panel")+`.querySelectorAll('li.item').length === 5`, time.Minute); err != nil {
		t.Fatal(err)
	}
	shoot(t, phone, "demo-phone.png")

	// The dark theme: the page follows the system, the widget the page.
	dark := browser.Tab(t)
	if err := chromedp.Do(dark, darkScheme(), chromedp.Navigate(d.base+"/demo?user=1")); err != nil {
		t.Fatal(err)
	}
	if err := browsertest.Until(dark, shadow("cloche-bell", ".badge")+`.textContent === '4'`, time.Minute); err != nil {
		t.Fatal(err)
	}
	evalBool(t, dark, shadow("cloche-bell", ".bell")+`.click() || true`)
	if err := browsertest.Until(dark, shadow("cloche-bell", ".panel")+`.querySelectorAll('li.item').length === 5`, time.Minute); err != nil {
		t.Fatal(err)
	}
	if bg := evalString(t, dark, `getComputedStyle(`+shadow("cloche-bell", ".panel")+`).backgroundColor`); bg != "rgb(22, 27, 34)" {
		t.Errorf("the menu's background in the dark: %s", bg)
	}
	shoot(t, dark, "demo-dark.png")
}

// shoot saves a screenshot of the tab's page as docs/screenshots/name with
// CLOCHE_SCREENSHOTS=1, else in a temporary folder.
func shoot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if os.Getenv(EnvScreenshots) == "1" {
		path = filepath.Join("..", "..", "docs", "screenshots", name)
	}
	if err := browsertest.Screenshot(tab, path); err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(path)
	if err != nil || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// darkScheme makes the tab's system prefer the dark colour scheme.
func darkScheme() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})
}

func evalString(t *testing.T, tab context.Context, expr string) string {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func evalBool(t *testing.T, tab context.Context, expr string) bool {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[bool](expr))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

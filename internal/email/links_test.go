package email_test

import (
	"html"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
)

// A notification's url and url actions arrive as buttons in the HTML part
// and as lines in the text part, through a real SMTP server; callback
// actions stay out; a folder's template can use them, and one that does
// not keeps working.
func TestLinksAsButtons(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		cfg := config(url, srv)
		dir := t.TempDir()
		for name, src := range map[string]string{
			"expense.html":        `<p class="custom">{{.Title}}{{if .URL}} <a class="go" href="{{.URL}}">{{.OpenLabel}}</a>{{end}}{{range .Links}} <a class="act" href="{{.URL}}">{{.Label}}</a>{{end}}</p>`,
			"supplier_order.html": `<p class="old">{{.Title}} / {{.Body}}</p>`,
		} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		cfg.Email.TemplatesDir = dir
		svc := open(t, cfg)
		loadDirectory(t, svc)
		start(t, svc)

		links := cloche.Notification{Body: "Votre facture est validée.",
			URL: "https://endi.example.org/invoices/42?tab=pdf&x=1",
			Actions: []cloche.Action{
				{Label: "Voir le devis <D-7>", URL: "https://endi.example.org/estimations/7"},
				{Label: "Payer", Callback: "https://endi.example.org/hooks/pay/42"},
				{Label: "Télécharger", URL: "https://endi.example.org/invoices/42.pdf"},
			}}
		sent := 0
		send := func(key, title string, userID string) *parsedMessage {
			t.Helper()
			n := links
			n.Key, n.Title = key, title
			res := notify(t, svc, n, cloche.Recipients{UserIDs: []string{userID}})
			waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
			sent++
			msgs := srv.Wait(t, sent, 5*time.Second)
			for _, m := range byRecipient(t, msgs[sent-1:]) {
				return &parsedMessage{html: m.html, text: m.text}
			}
			t.Fatal("no message")
			return nil
		}

		// The default layout, in French (Alice) and in English (Bob).
		fr := send("task:status:valid", "Facture F-42", "1")
		contains(t, "html", fr.html,
			`<a href="https://endi.example.org/invoices/42?tab=pdf&amp;x=1" style="display:inline-block;`, `>Ouvrir</a>`,
			`<a href="https://endi.example.org/estimations/7" style=`, `>Voir le devis &lt;D-7&gt;</a>`,
			`<a href="https://endi.example.org/invoices/42.pdf" style=`, `>Télécharger</a>`)
		contains(t, "text", fr.text, "Ouvrir: https://endi.example.org/invoices/42?tab=pdf&x=1",
			"Voir le devis <D-7>: https://endi.example.org/estimations/7", "Télécharger: https://endi.example.org/invoices/42.pdf")
		for _, part := range []string{fr.html, fr.text} {
			lacks(t, "message", part, "hooks/pay", "Payer")
		}
		en := send("task:status:paid", "Invoice F-42", "2")
		contains(t, "english html", html.UnescapeString(en.html), ">Open</a>")
		contains(t, "english text", en.text, "Open: https://endi.example.org/invoices/42?tab=pdf&x=1")

		// A folder's template that uses them, and one that does not.
		custom := send("expense:status:valid", "Note de frais", "1")
		contains(t, "custom html", custom.html, `<a class="go" href="https://endi.example.org/invoices/42?tab=pdf&amp;x=1">Ouvrir</a>`,
			`<a class="act" href="https://endi.example.org/estimations/7">Voir le devis &lt;D-7&gt;</a>`)
		old := send("supplier_order:status:valid", "Commande", "1")
		contains(t, "old html", old.html, `<p class="old">Commande / <p>Votre facture est validée.</p>`)
	})
}

type parsedMessage struct{ html, text string }

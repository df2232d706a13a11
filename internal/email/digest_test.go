package email

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func digestItems() []store.DigestEntry {
	at := time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC)
	return []store.DigestEntry{
		{EventID: 2, Key: "task:status:valid", Title: "Devis <2>", StatusType: store.StatusValid, CreatedAt: at.Add(time.Minute),
			Body: `<p>Validé : <a href="https://endi.example.org/d/2?a=1&b=2">voir</a><script>x()</script></p>`},
		{EventID: 1, Key: "task:status:invalid", Title: "Devis 1", StatusType: store.StatusInvalid, CreatedAt: at,
			Body: strings.Repeat("long ", 100)},
	}
}

// TestRenderDigest: the built-in digest lists the items in the order
// given, in the recipient's language, with their status mark, excerpt,
// link and time in their zone, escaped; the body's scripts never show.
func TestRenderDigest(t *testing.T) {
	tm, err := LoadTemplates("", "fr")
	if err != nil {
		t.Fatal(err)
	}
	paris, _ := time.LoadLocation("Europe/Paris")
	c := &DigestContent{Frequency: store.DigestDaily, Items: digestItems(), Location: paris}
	cache := NewDigestCache()
	fr, err := tm.RenderDigest(c, Recipient{Name: "Alice", Address: "a@x.test", Locale: "fr_FR"}, cache)
	if err != nil {
		t.Fatal(err)
	}
	if fr.Subject != "Vos notifications : 2 nouvelles" || fr.Locale != "fr" {
		t.Errorf("subject %q locale %q", fr.Subject, fr.Locale)
	}
	for _, part := range []string{fr.HTML, fr.Text} {
		i2, i1 := strings.Index(part, "Devis"), strings.LastIndex(part, "Devis 1")
		if i2 < 0 || i1 < 0 || i2 > i1 {
			t.Errorf("want Devis 2 first:\n%s", part)
		}
		if strings.Contains(part, "x()") || !strings.Contains(part, "✔") || !strings.Contains(part, "08:31") ||
			!strings.Contains(part, "chaque jour") {
			t.Errorf("want no script, the mark, the time in Paris, the frequency:\n%s", part)
		}
	}
	if !strings.Contains(fr.HTML, `href="https://endi.example.org/d/2?a=1&amp;b=2"`) || !strings.Contains(fr.HTML, "Devis &lt;2&gt;") {
		t.Errorf("want the link and the escaped title:\n%s", fr.HTML)
	}
	if !strings.Contains(fr.Text, "https://endi.example.org/d/2?a=1&b=2") || !strings.Contains(fr.Text, "long long…") {
		t.Errorf("want the link and the cut excerpt in the text:\n%s", fr.Text)
	}
	en, err := tm.RenderDigest(&DigestContent{Frequency: store.DigestWeekly, Items: digestItems()[:1]}, Recipient{Locale: "en"}, cache)
	if err != nil {
		t.Fatal(err)
	}
	if en.Subject != "Your notifications: 1 new" || !strings.Contains(en.Text, "Approved") || !strings.Contains(en.Text, "weekly") ||
		!strings.Contains(en.Text, "07:31") {
		t.Errorf("english, UTC: %q\n%s", en.Subject, en.Text)
	}
}

// TestDigestTemplatesFromFolder: digest.html and its localised variants
// in the templates folder replace the built-in ones; an item template
// is optional; a broken one stops the start.
func TestDigestTemplatesFromFolder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"digest.html":    `{{define "item"}}<li>{{.Mark}} {{.Title}}</li>{{end}}<ul>{{range .Items}}{{.HTML}}{{end}}</ul>`,
		"digest.en.html": `<p>{{.Count}} items{{range .Items}} [{{.Title}}]{{end}}</p>`,
		"digest.txt":     `DIGEST {{.Count}}{{range .Items}} {{.Title}}{{end}}`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tm, err := LoadTemplates(dir, "fr")
	if err != nil {
		t.Fatal(err)
	}
	c := &DigestContent{Frequency: store.DigestHourly, Items: digestItems()}
	fr, err := tm.RenderDigest(c, Recipient{Locale: "fr"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fr.HTML != "<ul><li>✔ Devis &lt;2&gt;</li><li>✖ Devis 1</li></ul>" || fr.Text != "DIGEST 2 Devis <2> Devis 1\n" {
		t.Errorf("fr: %q %q", fr.HTML, fr.Text)
	}
	en, err := tm.RenderDigest(c, Recipient{Locale: "en"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if en.HTML != "<p>2 items [Devis &lt;2&gt;] [Devis 1]</p>" {
		t.Errorf("en: %q", en.HTML)
	}
	if err := os.WriteFile(filepath.Join(dir, "digest.fr.txt"), []byte(`{{.Nope}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTemplates(dir, "fr"); err == nil || !strings.Contains(err.Error(), "digest.fr.txt") {
		t.Errorf("broken digest template: %v", err)
	}
}

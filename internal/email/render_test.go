package email

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func TestTemplatesFromFolder(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"task.status.html":    `<p class="task">{{.Title}} / {{.Body}} / {{.Footer}}</p>`,
		"task.status.en.html": `<p class="task-en">{{.Title}}</p>`,
		"task.status.txt":     `TASK {{.Title}}: {{.BodyText}}`,
		"expense.html":        `<p class="expense">Dear {{.RecipientName}}, {{.Title}}</p>`,
		"notes.md":            `ignored`,
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
	content := func(key string) *Content {
		return &Content{Key: key, Title: "Validée <ok>", Body: "<b>bold</b><script>x()</script>", StatusType: store.StatusValid}
	}
	fr := Recipient{Name: "Alice", Address: "alice@example.org", Locale: "fr", Reason: "group:manager"}
	en := Recipient{Name: "Bob", Address: "bob@example.org", Locale: "en", Reason: "group:manager"}
	cases := []struct {
		name      string
		key       string
		r         Recipient
		html, txt []string // what each part holds
	}{
		{"prefix match, fr", "task:status:valid", fr,
			[]string{`<p class="task">Validée &lt;ok&gt; / <b>bold</b> / Vous recevez`}, []string{"TASK Validée <ok>: bold"}},
		{"locale-specific file preferred", "task:status:paid", en, []string{`<p class="task-en">`}, []string{"TASK Validée <ok>: bold"}},
		{"per-recipient template", "expense:status:valid", en, []string{`Dear Bob, Validée &lt;ok&gt;`}, []string{"✔ Approved", "member of the group"}},
		{"no template: the default layout", "message:internal", fr, []string{`<h1 style=`, `<b>bold</b>`, "#15803d"}, []string{"✔ Validé", "bold"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := tm.Render(content(tc.key), tc.r)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.html {
				if !strings.Contains(m.HTML, w) {
					t.Errorf("html lacks %q:\n%s", w, m.HTML)
				}
			}
			for _, w := range tc.txt {
				if !strings.Contains(m.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, m.Text)
				}
			}
			if strings.Contains(m.HTML, "<script") || m.Subject != "Validée <ok>" {
				t.Errorf("subject %q, html %s", m.Subject, m.HTML)
			}
		})
	}
	m, err := tm.Render(&Content{Key: "k", Title: "Hi\r\nBcc: evil@example.org\n\tthere"}, fr)
	if err != nil || m.Subject != "Hi Bcc: evil@example.org there" {
		t.Errorf("subject of a title with line breaks: %q, %v", m.Subject, err)
	}
	// Recipients share a rendering unless the template names them.
	bob2 := en
	bob2.Name, bob2.Address = "Robert", "robert@example.org"
	if tm.CacheKey(content("task:status:paid"), en) != tm.CacheKey(content("task:status:paid"), bob2) {
		t.Error("an impersonal template must be rendered once for both")
	}
	if tm.CacheKey(content("expense:status:valid"), en) == tm.CacheKey(content("expense:status:valid"), bob2) {
		t.Error("a template naming the recipient must be rendered per recipient")
	}
}

func TestTemplatesRejected(t *testing.T) {
	cases := map[string]string{
		"does not parse":    `{{.Title`,
		"unknown field":     `{{.Nope}}`,
		"missing directory": "",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if src == "" {
				dir = filepath.Join(dir, "absent")
			} else if err := os.WriteFile(filepath.Join(dir, "default.html"), []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadTemplates(dir, "fr")
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != "email.templates_dir" {
				t.Fatalf("err = %v, want a field error on email.templates_dir", err)
			}
		})
	}
}

func TestFooter(t *testing.T) {
	cases := []struct{ reason, locale, want string }{
		{"direct", "fr", "Vous recevez ce courriel parce qu'il vous a été adressé directement."},
		{"direct", "en", "You receive this e-mail because it was sent to you directly."},
		{"group:admin", "en", "You receive this e-mail as a member of the group “admin”."},
		{"fallback_group:manager", "fr", "Vous recevez ce courriel en tant que membre du groupe « manager »."},
		{"follower:Carol", "en", "You receive this e-mail because you follow the account of Carol."},
		{"company:Sud", "fr", "Vous recevez ce courriel en tant que membre de Sud."},
		{"company_address:Atelier Nord", "en", "You receive this e-mail because it is the address of Atelier Nord."},
		{"", "en", "You receive this e-mail because you are a recipient of this notification."},
		{"group:", "fr", "Vous recevez ce courriel parce que vous êtes destinataire de cette notification."},
	}
	for _, tc := range cases {
		if got := Footer(tc.reason, tc.locale); got != tc.want {
			t.Errorf("Footer(%q, %s) = %q, want %q", tc.reason, tc.locale, got, tc.want)
		}
	}
	for in, want := range map[string]string{"fr_FR": "fr", "en-GB": "en", "EN": "en", "de": "fr", "": "fr"} {
		if got := NormLocale(in, "fr"); got != want {
			t.Errorf("NormLocale(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := NewBackoff(30*time.Second, 24*time.Hour, 12)
	var total time.Duration
	for attempt := 1; attempt < 12; attempt++ {
		lo, mid, hi := b.Wait(attempt, 0), b.Wait(attempt, 0.5), b.Wait(attempt, 0.999999)
		if lo >= mid || mid >= hi || float64(hi)/float64(lo) > 1.5+1e-6 {
			t.Errorf("attempt %d: waits %s %s %s, want ±20%% around the middle", attempt, lo, mid, hi)
		}
		total += mid
	}
	if first := b.Wait(1, 0.999999); first > time.Minute || first < 24*time.Second {
		t.Errorf("first retry after %s, want within a minute", first)
	}
	if math.Abs(total.Hours()-24) > 0.01 {
		t.Errorf("11 waits add up to %s, want about 24h", total)
	}
	if flat := NewBackoff(time.Minute, time.Minute, 5); flat.Ratio != 1 || flat.Wait(4, 0.5) != time.Minute {
		t.Errorf("a window shorter than the waits: %+v", flat)
	}
}

package email

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	texttemplate "text/template"

	"github.com/cloche/cloche/internal/store"
)

//go:embed templates/default.html templates/default.txt
var defaultTemplates embed.FS

// Content is what an e-mail says: an event and its type's status.
type Content struct {
	EventID     int64
	Key         string
	Title       string
	Body        string
	StatusType  store.StatusType
	ContextType string
	ContextID   string
	// URL is what the notification leads to; Actions are its buttons.
	URL     string
	Actions []store.Action
}

// Link is a button of an e-mail: a label and the URL it opens.
type Link struct {
	Label string
	URL   string
}

// Recipient is who an e-mail goes to, in which language, and why (a
// delivery reason, see store.DeliveryRecipient).
type Recipient struct {
	Name    string
	Address string
	Locale  string
	Reason  string
}

// Message is a rendered e-mail.
type Message struct {
	Subject string
	HTML    string
	Text    string
	Locale  string
}

// TemplateData is what templates see. Body is the notification body made
// safe (see SanitizeHTML) and BodyText its plain text rendering.
type TemplateData struct {
	Title         string
	Body          htmltemplate.HTML
	BodyText      string
	Key           string
	StatusType    string
	StatusLabel   string // the status type in the recipient's language
	Color         string // a CSS colour for the status type
	Mark          string // a symbol for the status type
	Locale        string // fr or en
	Footer        string // why the recipient gets this e-mail
	Automatic     string // "this message was sent automatically"
	RecipientName string
	Address       string
	EventID       int64
	ContextType   string
	ContextID     string
	// URL is what the notification leads to ("" when nothing), OpenLabel
	// the words of its button ("Ouvrir", "Open"); Links are the actions
	// that open a URL, as buttons. Actions with a host callback are left
	// out: an e-mail cannot make Cloche call the host for its reader.
	URL       string
	OpenLabel string
	Links     []Link
}

// Templates render e-mails: the default layout, or a per-type one from a
// folder. A type's templates are found by its key with ":" replaced by
// ".", then by shorter and shorter prefixes, then "default": for
// task:status:valid, task.status.valid.html, task.status.html, task.html,
// default.html. NAME.LOCALE.html (task.status.fr.html) is preferred to
// NAME.html for recipients of that locale. The .txt files render the plain
// text part the same way; where none applies, the default text layout is
// used.
type Templates struct {
	html          map[string]*htmltemplate.Template
	text          map[string]*texttemplate.Template
	personal      map[string]bool // templates that use the recipient's name or address
	defaultLocale string
	picks         sync.Map // key + "\x00" + locale → [2]string, the names pick returns
	digest        digestSet
}

const builtin = "\x00builtin"

// LoadTemplates parses the default layout and the templates of dir (none
// when dir is empty), and checks each renders. Errors name
// email.templates_dir.
func LoadTemplates(dir, defaultLocale string) (*Templates, error) {
	t := &Templates{
		html:          map[string]*htmltemplate.Template{},
		text:          map[string]*texttemplate.Template{},
		personal:      map[string]bool{},
		defaultLocale: NormLocale(defaultLocale, "fr"),
	}
	if err := t.add(defaultTemplates, "templates/default.html", builtin); err != nil {
		return nil, fmt.Errorf("email: default layout: %w", err)
	}
	if err := t.add(defaultTemplates, "templates/default.txt", builtin); err != nil {
		return nil, fmt.Errorf("email: default layout: %w", err)
	}
	if err := t.loadDigestDefaults(); err != nil {
		return nil, fmt.Errorf("email: default digest layout: %w", err)
	}
	if dir == "" {
		return t, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, store.Invalid("email.templates_dir", "%v", err)
	}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".html" && ext != ".txt") {
			continue
		}
		add := t.add
		if isDigestTemplate(strings.TrimSuffix(e.Name(), ext)) {
			add = t.addDigest
		}
		if err := add(os.DirFS(dir), e.Name(), strings.TrimSuffix(e.Name(), ext)); err != nil {
			return nil, store.Invalid("email.templates_dir", "%s: %v", e.Name(), err)
		}
	}
	return t, nil
}

// add parses one template file under name and renders it once with sample
// data, so that a broken template stops the start, not the sending.
func (t *Templates) add(fsys fs.FS, file, name string) error {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	sample := t.data(&Content{Key: "sample:key", Title: "Sample", Body: "<p>Sample</p>", StatusType: store.StatusNeutral,
		URL: "https://example.org/sample", Actions: []store.Action{{Label: "Sample", URL: "https://example.org/sample"}}},
		Recipient{Name: "Sample", Address: "sample@example.org", Locale: t.defaultLocale, Reason: "direct"})
	personal := strings.Contains(string(src), "RecipientName") || strings.Contains(string(src), "Address")
	if strings.HasSuffix(file, ".html") {
		tmpl, err := htmltemplate.New(file).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		if err := tmpl.Execute(&bytes.Buffer{}, sample); err != nil {
			return err
		}
		t.html[name], t.personal[name+".html"] = tmpl, personal
		return nil
	}
	tmpl, err := texttemplate.New(file).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return err
	}
	if err := tmpl.Execute(&bytes.Buffer{}, sample); err != nil {
		return err
	}
	t.text[name], t.personal[name+".txt"] = tmpl, personal
	return nil
}

// candidates are the template names tried for a key and locale, most
// specific first.
func candidates(key, locale string) []string {
	parts := strings.Split(key, ":")
	var out []string
	for n := len(parts); n > 0; n-- {
		base := strings.Join(parts[:n], ".")
		if base == "" || strings.ContainsAny(base, `/\`) {
			continue
		}
		out = append(out, base+"."+locale, base)
	}
	return append(out, "default."+locale, "default", builtin)
}

// pick returns the names of the HTML and text templates for a key and
// locale.
func (t *Templates) pick(key, locale string) (htmlName, textName string) {
	if p, ok := t.picks.Load(key + "\x00" + locale); ok {
		names := p.([2]string)
		return names[0], names[1]
	}
	defer func() { t.picks.Store(key+"\x00"+locale, [2]string{htmlName, textName}) }()
	htmlName, textName = builtin, builtin
	found := 0
	for _, c := range candidates(key, locale) {
		if _, ok := t.html[c]; ok && htmlName == builtin && c != builtin {
			htmlName = c
			found++
		}
		if _, ok := t.text[c]; ok && textName == builtin && c != builtin {
			textName = c
			found++
		}
		if found == 2 {
			break
		}
	}
	return htmlName, textName
}

// CacheKey identifies what a rendering depends on beyond the content: two
// recipients with the same key get the same message.
func (t *Templates) CacheKey(c *Content, r Recipient) string {
	locale := NormLocale(r.Locale, t.defaultLocale)
	h, x := t.pick(c.Key, locale)
	key := locale + "\x00" + r.Reason
	if t.personal[h+".html"] || t.personal[x+".txt"] {
		key += "\x00" + r.Name + "\x00" + r.Address
	}
	return key
}

// Render renders the e-mail of content c for recipient r.
func (t *Templates) Render(c *Content, r Recipient) (*Message, error) {
	d := t.data(c, r)
	h, x := t.pick(c.Key, d.Locale)
	var hb, tb bytes.Buffer
	if err := t.html[h].Execute(&hb, d); err != nil {
		return nil, fmt.Errorf("email: template %s: %w", nameOf(h, ".html"), err)
	}
	if err := t.text[x].Execute(&tb, d); err != nil {
		return nil, fmt.Errorf("email: template %s: %w", nameOf(x, ".txt"), err)
	}
	return &Message{Subject: subject(c.Title), HTML: hb.String(), Text: tidyText(tb.String()) + "\n", Locale: d.Locale}, nil
}

// subject is the title on one line: a header cannot hold line breaks.
func subject(title string) string {
	return strings.Join(strings.FieldsFunc(title, func(r rune) bool { return r == '\r' || r == '\n' || r == '\t' }), " ")
}

func nameOf(name, ext string) string {
	if name == builtin {
		return "default layout" + ext
	}
	return name + ext
}

func (t *Templates) data(c *Content, r Recipient) *TemplateData {
	locale := NormLocale(r.Locale, t.defaultLocale)
	body, text := RenderBody(c.Body)
	st := status(c.StatusType)
	return &TemplateData{
		Title:         c.Title,
		Body:          htmltemplate.HTML(body), // sanitised by RenderBody
		BodyText:      text,
		Key:           c.Key,
		StatusType:    string(c.StatusType),
		StatusLabel:   st.label[locale],
		Color:         st.color,
		Mark:          st.mark,
		Locale:        locale,
		Footer:        Footer(r.Reason, locale),
		Automatic:     automatic[locale],
		RecipientName: r.Name,
		Address:       r.Address,
		EventID:       c.EventID,
		ContextType:   c.ContextType,
		ContextID:     c.ContextID,
		URL:           c.URL,
		OpenLabel:     openLabel[locale],
		Links:         links(c.Actions),
	}
}

// links are the actions that open a URL.
func links(actions []store.Action) []Link {
	var out []Link
	for _, a := range actions {
		if a.URL != "" {
			out = append(out, Link{Label: a.Label, URL: a.URL})
		}
	}
	return out
}

var openLabel = map[string]string{"fr": "Ouvrir", "en": "Open"}

// NormLocale reduces a locale ("fr_FR", "en-GB", "EN") to fr or en, or
// returns def when it is neither.
func NormLocale(locale, def string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "-_."); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "fr", "en":
		return l
	}
	return def
}

type statusStyle struct {
	color, mark string
	label       map[string]string
}

var statusStyles = map[store.StatusType]statusStyle{
	store.StatusNeutral:  {"#4b5563", "ℹ", map[string]string{"fr": "Information", "en": "Information"}},
	store.StatusValid:    {"#15803d", "✔", map[string]string{"fr": "Validé", "en": "Approved"}},
	store.StatusInvalid:  {"#b91c1c", "✖", map[string]string{"fr": "Refusé", "en": "Refused"}},
	store.StatusCaution:  {"#b45309", "⚠", map[string]string{"fr": "Attention", "en": "Warning"}},
	store.StatusDocument: {"#1d4ed8", "📄", map[string]string{"fr": "Document", "en": "Document"}},
	store.StatusCalendar: {"#7c3aed", "📅", map[string]string{"fr": "Agenda", "en": "Calendar"}},
}

func status(s store.StatusType) statusStyle {
	if st, ok := statusStyles[s]; ok {
		return st
	}
	return statusStyles[store.StatusNeutral]
}

var automatic = map[string]string{
	"fr": "Ce message vous est envoyé automatiquement.",
	"en": "This message was sent automatically.",
}

// footers say why a person receives an e-mail, per reason kind and locale;
// %s is the reason's label.
var footers = map[string]map[string]string{
	"direct": {
		"fr": "Vous recevez ce courriel parce qu'il vous a été adressé directement.",
		"en": "You receive this e-mail because it was sent to you directly.",
	},
	"follower": {
		"fr": "Vous recevez ce courriel parce que vous suivez le dossier de %s.",
		"en": "You receive this e-mail because you follow the account of %s.",
	},
	"group": {
		"fr": "Vous recevez ce courriel en tant que membre du groupe « %s ».",
		"en": "You receive this e-mail as a member of the group “%s”.",
	},
	"company": {
		"fr": "Vous recevez ce courriel en tant que membre de %s.",
		"en": "You receive this e-mail as a member of %s.",
	},
	"company_address": {
		"fr": "Vous recevez ce courriel parce que c'est l'adresse de %s.",
		"en": "You receive this e-mail because it is the address of %s.",
	},
	"account_type": {
		"fr": "Vous recevez ce courriel en raison de votre type de compte (« %s »).",
		"en": "You receive this e-mail because of your account type (“%s”).",
	},
	"": {
		"fr": "Vous recevez ce courriel parce que vous êtes destinataire de cette notification.",
		"en": "You receive this e-mail because you are a recipient of this notification.",
	},
}

// Footer says, in locale (fr or en), why the recipient of a delivery with
// this reason receives it.
func Footer(reason, locale string) string {
	kind, label, _ := strings.Cut(reason, ":")
	if kind == "fallback_group" {
		kind = "group"
	}
	f, ok := footers[kind]
	if !ok || (kind != "direct" && label == "") || (kind == "account_type" && label == store.AccountTypeAll) {
		f = footers[""]
	}
	text := f[locale]
	if text == "" {
		text = f["fr"]
	}
	if strings.Contains(text, "%s") {
		return fmt.Sprintf(text, label)
	}
	return text
}

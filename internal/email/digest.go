package email

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/store"
)

// Digests are rendered from digest.html and digest.txt, or their
// localised variants digest.fr.html, digest.en.txt…, found in the
// templates folder first, then built in. The page sees DigestData. A
// template named "item" ({{define "item"}}…{{end}}) in the same file,
// when there is one, renders each held e-mail (it sees DigestItemData),
// once per event, language and time zone in a run, however many people
// it goes to: the page then puts each item's HTML (or Text) in place.

//go:embed templates/digest.html templates/digest.txt
var digestTemplates embed.FS

// DigestData is what digest templates see.
type DigestData struct {
	Title         string // "Your notifications: 3 new"
	Intro         string // what the digest is, and since when
	Items         []DigestItemData
	Count         int
	Locale        string
	Footer        string
	Automatic     string
	RecipientName string
	Address       string
}

// DigestItemData is one held e-mail in a digest.
type DigestItemData struct {
	Title       string
	Excerpt     string // the body as plain text, cut at about 200 characters
	Link        string // the notification's url, else the body's first link, if any
	Key         string
	StatusType  string
	StatusLabel string
	Color       string
	Mark        string
	When        string // when it was held, in the person's zone
	EventID     int64
	// HTML and Text are the item as the "item" template renders it (empty
	// without one).
	HTML htmltemplate.HTML
	Text string
}

// DigestContent is what one digest lists, newest first.
type DigestContent struct {
	Frequency store.DigestFrequency
	Items     []store.DigestEntry
	Location  *time.Location
}

// digestSet holds the digest templates by name ("digest", "digest.fr").
type digestSet struct {
	html map[string]*htmltemplate.Template
	text map[string]*texttemplate.Template
}

func isDigestTemplate(name string) bool {
	return name == "digest" || strings.HasPrefix(name, "digest.")
}

// addDigest parses a digest template and renders it once with sample
// data, so that a broken one stops the start.
func (t *Templates) addDigest(fsys fs.FS, file, name string) error {
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return err
	}
	sample := &DigestData{Title: "Sample", Intro: "Sample", Count: 1, Locale: t.defaultLocale, Items: []DigestItemData{{Title: "Sample", Excerpt: "Sample", Link: "https://example.org"}}}
	if strings.HasSuffix(file, ".html") {
		tmpl, err := htmltemplate.New(file).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return err
		}
		if err := tmpl.Execute(&bytes.Buffer{}, sample); err != nil {
			return err
		}
		if tmpl.Lookup("item") != nil {
			if err := tmpl.ExecuteTemplate(&bytes.Buffer{}, "item", &sample.Items[0]); err != nil {
				return err
			}
		}
		t.digest.html[name] = tmpl
		return nil
	}
	tmpl, err := texttemplate.New(file).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return err
	}
	if err := tmpl.Execute(&bytes.Buffer{}, sample); err != nil {
		return err
	}
	if tmpl.Lookup("item") != nil {
		if err := tmpl.ExecuteTemplate(&bytes.Buffer{}, "item", &sample.Items[0]); err != nil {
			return err
		}
	}
	t.digest.text[name] = tmpl
	return nil
}

func (t *Templates) loadDigestDefaults() error {
	t.digest = digestSet{html: map[string]*htmltemplate.Template{}, text: map[string]*texttemplate.Template{}}
	if err := t.addDigest(digestTemplates, "templates/digest.html", builtin); err != nil {
		return err
	}
	return t.addDigest(digestTemplates, "templates/digest.txt", builtin)
}

func pickDigest[T any](m map[string]T, locale string) T {
	for _, n := range []string{"digest." + locale, "digest", builtin} {
		if v, ok := m[n]; ok {
			return v
		}
	}
	return m[builtin]
}

var digestWords = map[string]struct {
	title, one, many, intro, footer, date string
}{
	"fr": {"Vos notifications", "1 nouvelle", "%d nouvelles", "Voici ce qui vous a été adressé depuis votre dernier récapitulatif.",
		"Vous recevez ce récapitulatif parce que vous avez choisi de regrouper vos courriels (%s).", "02/01/2006 15:04"},
	"en": {"Your notifications", "1 new", "%d new", "Here is what was sent to you since your last digest.",
		"You receive this digest because you chose to have your e-mails grouped (%s).", "Jan 2, 2006 15:04"},
}

var frequencyWords = map[string]map[store.DigestFrequency]string{
	"fr": {store.DigestHourly: "toutes les heures", store.DigestDaily: "chaque jour", store.DigestWeekly: "chaque semaine", store.DigestImmediate: "immédiatement"},
	"en": {store.DigestHourly: "hourly", store.DigestDaily: "daily", store.DigestWeekly: "weekly", store.DigestImmediate: "immediately"},
}

var firstLink = regexp.MustCompile(`<a\s[^>]*href="(https?://[^"]+)"`)

// DigestExcerpt is an item's body as a digest shows it: plain text cut
// at about 200 characters, and the body's first link.
func DigestExcerpt(body string) (excerpt, link string) {
	safe, text := RenderBody(body)
	if m := firstLink.FindStringSubmatch(safe); m != nil {
		link = html.UnescapeString(m[1]) // the templates escape it again
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > 200 {
		r := []rune(text)[:200]
		text = strings.TrimRight(string(r), " ") + "…"
	}
	return text, link
}

// DigestCache keeps, for one run, what digests share: each event's
// excerpt and each item's rendering per language and zone.
type DigestCache struct {
	excerpts map[int64][2]string
	items    map[itemKey]*DigestItemData
}

type itemKey struct {
	event        int64
	locale, zone string
	create       int64
}

// NewDigestCache returns an empty cache.
func NewDigestCache() *DigestCache {
	return &DigestCache{excerpts: map[int64][2]string{}, items: map[itemKey]*DigestItemData{}}
}

// item is the data of one held e-mail, rendered by the "item" templates.
func (t *Templates) item(c *DigestCache, it *store.DigestEntry, locale string, loc *time.Location) (*DigestItemData, error) {
	key := itemKey{event: it.EventID, locale: locale, zone: loc.String(), create: it.CreatedAt.UnixMicro()}
	if d, ok := c.items[key]; ok && d.Key == it.Key {
		return d, nil
	}
	e, ok := c.excerpts[it.EventID]
	if !ok {
		e[0], e[1] = DigestExcerpt(it.Body)
		c.excerpts[it.EventID] = e
	}
	st := status(it.StatusType)
	link := e[1]
	if it.URL != "" {
		link = it.URL
	}
	d := &DigestItemData{
		Title: subject(it.Title), Excerpt: e[0], Link: link, Key: it.Key, StatusType: string(it.StatusType),
		StatusLabel: st.label[locale], Color: st.color, Mark: st.mark,
		When: it.CreatedAt.In(loc).Format(digestWords[locale].date), EventID: it.EventID,
	}
	h, x := pickDigest(t.digest.html, locale), pickDigest(t.digest.text, locale)
	var b strings.Builder
	if h.Lookup("item") != nil {
		if err := h.ExecuteTemplate(&b, "item", d); err != nil {
			return nil, fmt.Errorf("email: digest template (html, item): %w", err)
		}
		d.HTML = htmltemplate.HTML(b.String()) // rendered by html/template
	}
	if x.Lookup("item") != nil {
		b.Reset()
		if err := x.ExecuteTemplate(&b, "item", d); err != nil {
			return nil, fmt.Errorf("email: digest template (text, item): %w", err)
		}
		d.Text = b.String()
	}
	c.items[key] = d
	return d, nil
}

// RenderDigest renders a digest of c for r. cache may be nil.
func (t *Templates) RenderDigest(c *DigestContent, r Recipient, cache *DigestCache) (*Message, error) {
	if cache == nil {
		cache = NewDigestCache()
	}
	locale := NormLocale(r.Locale, t.defaultLocale)
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	w := digestWords[locale]
	d := &DigestData{
		Title: w.title, Intro: w.intro, Count: len(c.Items), Locale: locale,
		Footer:    fmt.Sprintf(w.footer, frequencyWords[locale][c.Frequency]),
		Automatic: automatic[locale], RecipientName: r.Name, Address: r.Address,
		Items: make([]DigestItemData, len(c.Items)),
	}
	for i := range c.Items {
		it, err := t.item(cache, &c.Items[i], locale, loc)
		if err != nil {
			return nil, err
		}
		d.Items[i] = *it
	}
	count := w.one
	if len(c.Items) != 1 {
		count = fmt.Sprintf(w.many, len(c.Items))
	}
	subj := w.title + " : " + count
	if locale == "en" {
		subj = w.title + ": " + count
	}
	var hb, tb bytes.Buffer
	if err := pickDigest(t.digest.html, locale).Execute(&hb, d); err != nil {
		return nil, fmt.Errorf("email: digest template (html): %w", err)
	}
	if err := pickDigest(t.digest.text, locale).Execute(&tb, d); err != nil {
		return nil, fmt.Errorf("email: digest template (text): %w", err)
	}
	return &Message{Subject: subj, HTML: hb.String(), Text: tidyText(tb.String()) + "\n", Locale: locale}, nil
}

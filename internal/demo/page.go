package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/widget"
)

// PagePath is where the demo page is served.
const PagePath = "/demo"

// TokenTTL is the life of the tokens the demo page mints; the widget
// renews them through /demo/token.
const TokenTTL = 15 * time.Minute

//go:embed page.html
var pageHTML string

//go:embed page.css
var pageCSS []byte

// Page is the demo host application `cloche serve --demo` serves at /demo:
// a page of a pretend cooperative's management application that embeds
// the widget (bell, banners, alerts) for one of the demo people, chosen
// with a switcher. The server mints that person's token, as a host does.
//
// It hands out a token for any active person of the demo directory to
// whoever asks: it is for trying Cloche out, never for a real directory.
type Page struct {
	svc     *cloche.Service
	logger  *slog.Logger
	console string // the console's prefix, for links
	users   []pageUser
	tmpl    *template.Template
	cssETag string
	now     func() time.Time // time.Now; tests replace it
}

// pageUser is one person of the switcher.
type pageUser struct {
	ID, Name, Locale, About string
}

// FirstName is the name the page greets.
func (u pageUser) FirstName() string {
	first, _, _ := strings.Cut(u.Name, " ")
	return first
}

// NewPage builds the demo page of svc; consolePrefix ("/console") is linked
// from it.
func NewPage(svc *cloche.Service, consolePrefix string, logger *slog.Logger) (*Page, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f, err := Directory()
	if err != nil {
		return nil, err
	}
	companies := map[cloche.ID]string{}
	for _, c := range f.Companies {
		companies[c.ID] = c.Name
	}
	p := &Page{svc: svc, logger: logger, console: consolePrefix, now: time.Now}
	for _, u := range f.Users {
		if u.Active != nil && !*u.Active {
			continue // reached by nothing: nothing to show
		}
		about := slices.Clone(u.Groups)
		for _, c := range u.Companies {
			about = append(about, companies[c])
		}
		p.users = append(p.users, pageUser{ID: string(u.ID), Name: u.Name, Locale: u.Locale, About: strings.Join(about, ", ")})
	}
	p.tmpl, err = template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, fmt.Errorf("demo: page template: %w", err)
	}
	sum := sha256.Sum256(pageCSS)
	p.cssETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return p, nil
}

// Register mounts the page on mux: /demo, /demo/token and its style sheet.
func (p *Page) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PagePath, p.page)
	mux.HandleFunc("GET "+PagePath+"/token", p.token)
	mux.HandleFunc("GET "+PagePath+"/static/demo.css", p.css)
}

// URL is the page of the first demo person (Alice, an admin) on the
// server at base ("http://host:port").
func (p *Page) URL(base string) string { return pageURL(base, p.users[0].ID) }

func pageURL(base, userID string) string {
	return strings.TrimSuffix(base, "/") + PagePath + "?user=" + url.QueryEscape(userID)
}

// pageData is what page.html shows.
type pageData struct {
	Greeting  string // "Good morning", by the person's clock
	User      pageUser
	Users     []pageUser
	Token     string
	TokenURL  string
	WidgetSrc string
	Console   string
}

func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("user")
	if id == "" {
		http.Redirect(w, r, p.URL(""), http.StatusFound)
		return
	}
	u, ok := p.user(w, id)
	if !ok {
		return
	}
	tok, _, ok := p.mint(r.Context(), w, u)
	if !ok {
		return
	}
	var buf bytes.Buffer
	err := p.tmpl.Execute(&buf, pageData{Greeting: greeting(p.now().In(p.zone(r.Context(), u.ID))), User: u, Users: p.users, Token: tok,
		TokenURL: PagePath + "/token?user=" + url.QueryEscape(u.ID), WidgetSrc: widget.Path, Console: p.console})
	if err != nil {
		p.logger.ErrorContext(r.Context(), "demo: render the page", "err", err)
		http.Error(w, "demo: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The widget needs no inline script nor style: the strictest policy holds.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store") // it holds a token
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	_, _ = w.Write(buf.Bytes())
}

// zone is the time zone of person id: theirs when the directory gives
// one, else the organisation's.
func (p *Page) zone(ctx context.Context, id string) *time.Location {
	if u, err := p.svc.User(ctx, id); err == nil && u.TimeZone != "" {
		if loc, err := time.LoadLocation(u.TimeZone); err == nil {
			return loc
		}
	}
	return p.svc.Location()
}

// greeting says hello by the hour of t: morning from 5:00, afternoon from
// 12:00, evening from 18:00 until 5:00.
func greeting(t time.Time) string {
	switch h := t.Hour(); {
	case h >= 5 && h < 12:
		return "Good morning"
	case h >= 12 && h < 18:
		return "Good afternoon"
	}
	return "Good evening"
}

// token: GET /demo/token?user=ID answers {"token": "…", "expires_at": "…"},
// the widget's token-url.
func (p *Page) token(w http.ResponseWriter, r *http.Request) {
	u, ok := p.user(w, r.URL.Query().Get("user"))
	if !ok {
		return
	}
	tok, exp, ok := p.mint(r.Context(), w, u)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_at": exp.UTC()})
}

func (p *Page) css(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", p.cssETag)
	http.ServeContent(w, r, "demo.css", time.Time{}, bytes.NewReader(pageCSS))
}

// user finds an active demo person, or answers 404.
func (p *Page) user(w http.ResponseWriter, id string) (pageUser, bool) {
	for _, u := range p.users {
		if u.ID == id {
			return u, true
		}
	}
	http.Error(w, fmt.Sprintf("demo: %q is not an active person of the demo directory; choose one at %s", id, PagePath), http.StatusNotFound)
	return pageUser{}, false
}

// mint makes u's token, or answers the error.
func (p *Page) mint(ctx context.Context, w http.ResponseWriter, u pageUser) (string, time.Time, bool) {
	tok, exp, err := p.svc.UserToken(ctx, u.ID, TokenTTL)
	if err == nil {
		return tok, exp, true
	}
	p.logger.ErrorContext(ctx, "demo: mint a token", "user_id", u.ID, "err", err)
	status := http.StatusInternalServerError
	if errors.Is(err, cloche.ErrNotFound) {
		status = http.StatusServiceUnavailable // the demo directory is not loaded
	}
	http.Error(w, fmt.Sprintf("demo: a token for user %s could not be minted: %v", u.ID, err), status)
	return "", time.Time{}, false
}

package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// view is what every page template receives.
type view struct {
	Title string
	Nav   string // the menu entry to highlight
	Base  string // the console's prefix, for links
	CSRF  string // the session's form token; empty when logged out
	Who   string
	Flash *flash
	Zone  string // the time zone times are shown in
	// Refresh, when above zero, reloads the page every so many seconds
	// (a meta refresh: no script).
	Refresh int
	Data    any
}

// render writes page with data. The page is built in memory first, so that
// a template error gives a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title, nav string, data any) {
	c.renderRefreshing(w, r, s, status, page, title, nav, data, 0)
}

// renderRefreshing is render with a meta refresh every refresh seconds
// (none when 0).
func (c *Console) renderRefreshing(w http.ResponseWriter, r *http.Request, s *session, status int, page, title, nav string, data any, refresh int) {
	<-c.pagesDone
	if c.pagesErr != nil {
		c.logger.ErrorContext(r.Context(), "console: templates", "err", c.pagesErr)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	t, ok := c.pages[page]
	if !ok {
		c.logger.ErrorContext(r.Context(), "console: no such template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := view{Title: title, Nav: nav, Base: c.prefix, Zone: zoneLabel(c.svc.Location(), c.now()), Data: data, Refresh: refresh}
	if s != nil {
		v.CSRF = c.keys.csrfToken(s.ID)
		v.Who = s.Who
		v.Flash = c.takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		c.logger.ErrorContext(r.Context(), "console: render", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage shows a message in the console's frame.
func (c *Console) errorPage(w http.ResponseWriter, r *http.Request, s *session, status int, title, message string) {
	c.render(w, r, s, status, "error", title, "", message)
}

// serverError shows a page that says what failed: for input the service
// refused (U+0000 in a search, say), the field and why (400); otherwise
// without the backend's words, which are logged.
func (c *Console) serverError(w http.ResponseWriter, r *http.Request, s *session, what string, err error) {
	if errors.Is(err, cloche.ErrInvalid) {
		c.errorPage(w, r, s, http.StatusBadRequest, "Invalid input", fmt.Sprintf("Could not %s: %s", what, inWords(err)))
		return
	}
	status := http.StatusInternalServerError
	msg := fmt.Sprintf("Could not %s; the server log says why.", what)
	if isUnavailable(err) {
		status = http.StatusServiceUnavailable
		msg = fmt.Sprintf("Could not %s: the database is unavailable; try again later.", what)
	}
	c.logger.ErrorContext(r.Context(), "console: "+what, "path", r.URL.Path, "err", err)
	c.errorPage(w, r, s, status, "Something failed", msg)
}

// funcs are the helpers the templates use.
func (c *Console) funcs() template.FuncMap {
	loc := func() *time.Location { return c.svc.Location() }
	return template.FuncMap{
		"when": func(v any) string {
			t, ok := asTime(v)
			if !ok {
				return "—"
			}
			return t.In(loc()).Format("2006-01-02 15:04:05")
		},
		"iso": func(v any) string {
			t, ok := asTime(v)
			if !ok {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		},
		"ago": func(v any) string {
			t, ok := asTime(v)
			if !ok {
				return ""
			}
			return relative(c.now().Sub(t))
		},
		"duration":       humanDuration,
		"base":           func() string { return c.prefix },
		"channelLabel":   channelLabel,
		"outboundLabel":  outboundLabel,
		"withheldReason": withheldReason,
		"total": func(m map[cloche.Channel]int) int {
			n := 0
			for _, v := range m {
				n += v
			}
			return n
		},
		"join": func(ss []string) string { return strings.Join(ss, ", ") },
		"deliveryRows": func(ds []cloche.Delivery, csrf, here string, n names) deliveryRows {
			return deliveryRows{Rows: ds, CSRF: csrf, Here: here, Names: n}
		},
		"retryable": retryable,
		"atEnd":     atEnd,
		"f1":        func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
		"inAppOn": func(rc cloche.EventRecipient, ch cloche.Channel) *store.RecipientNotification {
			for i := range rc.InApp {
				if rc.InApp[i].Channel == ch {
					return &rc.InApp[i]
				}
			}
			return nil
		},
		"add": func(ns ...int) int {
			t := 0
			for _, n := range ns {
				t += n
			}
			return t
		},
		"channels": func() []cloche.Channel { return channels },
		"inAppChannels": func() []cloche.Channel {
			return []cloche.Channel{cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert}
		},
	}
}

// channelLabel is a channel's name in the console: short, with the API
// name an operator sees elsewhere.
// outboundLabel names an outbound channel (a delivery's): e-mail and push
// as everywhere else (channelLabel), webhook outlets as such.
func outboundLabel(ch string) string {
	if ch == "webhook" {
		return "Webhook"
	}
	return channelLabel(cloche.Channel(ch))
}

func channelLabel(ch cloche.Channel) string {
	switch ch {
	case cloche.ChannelEmail:
		return "E-mail"
	case cloche.ChannelMessage:
		return "Bell menu (message)"
	case cloche.ChannelHeaderMessage:
		return "Banner (header_message)"
	case cloche.ChannelAlert:
		return "Alert (alert)"
	case cloche.ChannelPush:
		return "Browser push (push)"
	case "":
		return "—"
	}
	return string(ch)
}

var channels = []cloche.Channel{cloche.ChannelEmail, cloche.ChannelMessage, cloche.ChannelHeaderMessage, cloche.ChannelAlert, cloche.ChannelPush}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil || t.IsZero() {
			return time.Time{}, false
		}
		return *t, true
	}
	return time.Time{}, false
}

// relative says how long ago (or in how long) d is, roughly.
func relative(d time.Duration) string {
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "less than a minute"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// humanDuration shows d with two units at most: "340ms", "12s", "4m 05s",
// "2h 10m", "3d 4h".
func humanDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", d/time.Minute, (d%time.Minute)/time.Second)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	}
	return fmt.Sprintf("%dd %dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
}

// zoneLabel names the time zone times are shown in, for the footer: the
// IANA name with its abbreviation and UTC offset at now, or, for the
// machine's own zone ("Local", which names nothing), the server's zone
// abbreviation and offset.
func zoneLabel(loc *time.Location, now time.Time) string {
	t := now.In(loc)
	abbr, _ := t.Zone()
	offset := "UTC" + t.Format("-07:00")
	if loc.String() == "Local" {
		if abbr == "" || abbr == "UTC" {
			return "the server's local time (" + offset + ")"
		}
		return "the server's local time (" + abbr + ", " + offset + ")"
	}
	if abbr == "" || abbr == loc.String() || strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		return loc.String() + " (" + offset + ")"
	}
	return loc.String() + " (" + abbr + ", " + offset + ")"
}

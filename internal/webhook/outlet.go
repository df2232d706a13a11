package webhook

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// Input is an outlet as given by an operator.
type Input struct {
	Name   string `json:"name"`
	URL    string `json:"url"`
	Format string `json:"format"` // standard (default) or chat
	// Secret is "whsec_" and base64; empty: a new one.
	Secret     string                  `json:"secret,omitempty"`
	Types      []string                `json:"types"`
	Recipients store.WebhookRecipients `json:"recipients"`
}

var (
	namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	// typePattern: "*", a category "task:*", or a key.
	typePattern = regexp.MustCompile(`^(\*|[a-z0-9_-]+(:[a-z0-9_*-]+)*)$`)
)

// Outlet checks in and returns the outlet it describes; every wrong field
// is named.
func (in Input) Outlet() (*store.WebhookOutlet, error) {
	var errs []error
	o := &store.WebhookOutlet{Name: strings.TrimSpace(in.Name), URL: strings.TrimSpace(in.URL), Format: in.Format,
		Secret: in.Secret, Recipients: in.Recipients}
	if !namePattern.MatchString(o.Name) {
		errs = append(errs, store.Invalid("name", "%q: want 1 to 64 letters, digits, '.', '_' or '-'", in.Name))
	}
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, store.Invalid("url", "%q is not an http or https URL", in.URL))
	} else if u.User != nil {
		errs = append(errs, store.Invalid("url", "must not carry a user or password"))
	}
	switch o.Format {
	case "":
		o.Format = store.WebhookStandard
	case store.WebhookStandard, store.WebhookChat:
	default:
		errs = append(errs, store.Invalid("format", "%q: want standard or chat", in.Format))
	}
	if o.Secret == "" {
		o.Secret = NewSecret()
	} else if _, err := secretKey(o.Secret); err != nil {
		errs = append(errs, err)
	}
	if len(in.Types) == 0 {
		errs = append(errs, store.Invalid("types", "give at least one type pattern: a key (message:system), a category (task:*) or *"))
	}
	for _, t := range in.Types {
		t = strings.TrimSpace(t)
		if !typePattern.MatchString(t) || (strings.Contains(t, "*") && t != "*" && !strings.HasSuffix(t, ":*")) ||
			strings.Count(t, "*") > 1 {
			errs = append(errs, store.Invalid("types", "%q: want a key (message:system), a category (task:*) or *", t))
			continue
		}
		if !slices.Contains(o.Types, t) {
			o.Types = append(o.Types, t)
		}
	}
	r := &o.Recipients
	r.CompanyIDs, r.UserIDs, r.GroupNames = clean(r.CompanyIDs), clean(r.UserIDs), clean(r.GroupNames)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

func clean(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Matches reports whether an event goes to outlet o: its type matches one
// of o's patterns and, when o names recipients, the event was sent to one
// of them.
func Matches(o *store.WebhookOutlet, ev *store.Event) bool {
	if !matchesType(o.Types, ev.Key) {
		return false
	}
	r := o.Recipients
	if r.Empty() {
		return true
	}
	if ev.Recipients.CompanyID != "" && slices.Contains(r.CompanyIDs, ev.Recipients.CompanyID) {
		return true
	}
	for _, id := range ev.Recipients.UserIDs {
		if slices.Contains(r.UserIDs, id) {
			return true
		}
	}
	if ev.Recipients.FollowerUserID != "" && slices.Contains(r.UserIDs, ev.Recipients.FollowerUserID) {
		return true
	}
	for _, g := range ev.Recipients.GroupNames {
		if slices.Contains(r.GroupNames, g) {
			return true
		}
	}
	return false
}

func matchesType(patterns []string, key string) bool {
	for _, p := range patterns {
		switch {
		case p == "*" || p == key:
			return true
		case strings.HasSuffix(p, ":*") && strings.HasPrefix(key, p[:len(p)-1]):
			return true
		}
	}
	return false
}

package dispatch

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/store"
)

// Action is a button of a notification: a label and either a URL to open
// or a host callback that Cloche POSTs to, signed, when it is pressed.
type Action = store.Action

// validateLinks checks a notification's url and actions: http(s) URLs of
// at most store.MaxURLLen bytes, labels of 1 to store.MaxActionLabelLen
// characters, at most store.MaxActions actions, each with a url or a
// callback but not both. It trims labels and URLs in place.
func validateLinks(n *Notification) []error {
	var errs []error
	n.URL = strings.TrimSpace(n.URL)
	if err := checkLinkURL("url", n.URL); err != nil {
		errs = append(errs, err)
	}
	if len(n.Actions) > store.MaxActions {
		errs = append(errs, store.Invalid("actions", "has %d actions; at most %d are allowed", len(n.Actions), store.MaxActions))
		return errs
	}
	for i := range n.Actions {
		a := &n.Actions[i]
		field := fmt.Sprintf("actions[%d]", i)
		a.Label, a.URL, a.Callback = strings.TrimSpace(a.Label), strings.TrimSpace(a.URL), strings.TrimSpace(a.Callback)
		switch {
		case a.Label == "":
			errs = append(errs, store.Invalid(field+".label", "must not be empty"))
		case utf8.RuneCountInString(a.Label) > store.MaxActionLabelLen:
			errs = append(errs, store.Invalid(field+".label", "is %d characters long; at most %d are allowed",
				utf8.RuneCountInString(a.Label), store.MaxActionLabelLen))
		default:
			if err := store.CheckText(field+".label", a.Label); err != nil {
				errs = append(errs, err)
			}
		}
		switch {
		case a.URL == "" && a.Callback == "":
			errs = append(errs, store.Invalid(field, "needs a url (opened by the person) or a callback (called by Cloche)"))
		case a.URL != "" && a.Callback != "":
			errs = append(errs, store.Invalid(field, "has both a url and a callback; give one"))
		}
		if err := checkLinkURL(field+".url", a.URL); err != nil {
			errs = append(errs, err)
		}
		if err := checkLinkURL(field+".callback", a.Callback); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkLinkURL checks an optional absolute http or https URL.
func checkLinkURL(field, s string) error {
	if s == "" {
		return nil
	}
	if err := store.CheckText(field, s); err != nil {
		return err
	}
	if len(s) > store.MaxURLLen {
		return store.Invalid(field, "is %d bytes long; at most %d are allowed", len(s), store.MaxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.Invalid(field, "%q is not an absolute http or https URL", truncate(s, 80))
	}
	return nil
}

// truncate shortens s to at most n bytes for an error message, on a rune
// boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

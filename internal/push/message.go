package push

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloche/cloche/internal/store"
)

// Payload is what the service worker receives, as JSON: it shows title
// and body, and on a click opens url and marks notification_id read.
type Payload struct {
	Title          string `json:"title"`
	Body           string `json:"body,omitempty"`
	URL            string `json:"url,omitempty"`
	NotificationID int64  `json:"notification_id"`
	Key            string `json:"key"`
	Status         string `json:"status"`
}

// Size bounds of a payload: the whole message must fit one 4096-byte
// record once encrypted (86 bytes of header, 16 of tag, one delimiter).
const (
	maxBody    = 200  // characters of the body's excerpt
	maxTitle   = 300  // characters of the title
	maxURL     = 1500 // bytes of the url; a longer one is left out
	maxPayload = 3993 // bytes of JSON
)

// Marshal returns p as JSON, cut to fit one push: the title and body
// are shortened, a url too long to fit is left out.
func (p Payload) Marshal() ([]byte, error) {
	p.Title = cut(p.Title, maxTitle)
	p.Body = cut(strings.Join(strings.Fields(p.Body), " "), maxBody)
	if len(p.URL) > maxURL {
		p.URL = ""
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("push: payload: %w", err)
	}
	for len(b) > maxPayload && p.Title != "" { // very wide characters only
		p.Title = cut(p.Title, utf8.RuneCountInString(p.Title)/2)
		if b, err = json.Marshal(p); err != nil {
			return nil, fmt.Errorf("push: payload: %w", err)
		}
	}
	return b, nil
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimRight(string([]rune(s)[:n]), " ") + "…"
}

// Urgency values of RFC 8030, section 5.3.
const (
	UrgencyLow    = "low"
	UrgencyNormal = "normal"
	UrgencyHigh   = "high"
)

// Policy is how long the push service keeps a push for a browser that
// is offline (TTL) and how urgent it is, by the type's status: what needs
// attention (invalid, caution) is high and kept a day; a calendar reminder
// is normal and kept a day; the rest is normal and kept three days. A
// notification that expires sooner is kept until it expires.
func Policy(status store.StatusType, expires *time.Time, now time.Time) (ttl time.Duration, urgency string) {
	switch status {
	case store.StatusInvalid, store.StatusCaution:
		ttl, urgency = 24*time.Hour, UrgencyHigh
	case store.StatusCalendar:
		ttl, urgency = 24*time.Hour, UrgencyNormal
	default:
		ttl, urgency = 72*time.Hour, UrgencyNormal
	}
	if expires != nil {
		ttl = min(ttl, max(expires.Sub(now).Truncate(time.Second), 0))
	}
	return ttl, urgency
}

// CheckSubscription returns the field errors of a subscription a browser
// gives: an https endpoint (or, with loopback, an http one on 127.0.0.1,
// for tests), a 65-byte P-256 public key and a 16-byte auth secret, both
// base64url.
func CheckSubscription(endpoint, p256dh, auth string, loopback bool) error {
	var errs []error
	u, err := url.Parse(endpoint)
	switch {
	case endpoint == "":
		errs = append(errs, store.Invalid("endpoint", "is required"))
	case len(endpoint) > 2000:
		errs = append(errs, store.Invalid("endpoint", "is longer than 2000 bytes"))
	case err != nil || u.Host == "" || u.User != nil || u.Fragment != "":
		errs = append(errs, store.Invalid("endpoint", "%q is not an absolute URL", endpoint))
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback && isLoopback(u.Hostname()):
	default:
		errs = append(errs, store.Invalid("endpoint", "must be an https URL (the push service's)"))
	}
	if n, err := decodeKey(p256dh); err != nil || len(n) != 65 || !onCurve(n) {
		errs = append(errs, store.Invalid("keys.p256dh", "must be the browser's P-256 public key: 65 bytes, base64url"))
	}
	if n, err := decodeKey(auth); err != nil || len(n) != 16 {
		errs = append(errs, store.Invalid("keys.auth", "must be the browser's auth secret: 16 bytes, base64url"))
	}
	return errors.Join(errs...)
}

func onCurve(point []byte) bool {
	_, err := ecdh.P256().NewPublicKey(point)
	return err == nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err == nil && len(b) == 0 {
		err = fmt.Errorf("empty")
	}
	if err != nil {
		return []byte{0}, err
	}
	return b, nil
}

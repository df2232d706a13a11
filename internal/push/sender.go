package push

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
)

// Message is one push to one subscription.
type Message struct {
	Endpoint string
	P256dh   string
	Auth     string
	Payload  []byte
	TTL      time.Duration
	Urgency  string
	// Topic, when set, lets the push service replace an undelivered push
	// of the same topic (RFC 8030, section 5.4).
	Topic string
}

// Kind is how a push ended.
type Kind int

// The outcomes of a push.
const (
	// Sent: the push service accepted it (201).
	Sent Kind = iota
	// Temporary: worth trying again, after RetryAfter when the push
	// service gave one (429, 5xx, a network error).
	Temporary
	// Permanent: the push service refused it; sending it again would not
	// help (400, 401, 403, 413 and the like).
	Permanent
	// Gone: the subscription no longer exists (404, 410); remove it.
	Gone
)

func (k Kind) String() string {
	return [...]string{"sent", "temporary", "permanent", "gone"}[k]
}

// Outcome is the result of one Message.
type Outcome struct {
	Kind       Kind
	Code       int           // the push service's HTTP status; 0 when none came
	RetryAfter time.Duration // the push service's Retry-After, 0 when absent
	Message    string        // why, for the delivery log
}

// Sender posts pushes. It is safe for concurrent use.
type Sender struct {
	keys    *Keys
	subject string
	client  *http.Client
	workers int
	now     func() time.Time
}

// SenderOptions configure NewSender.
type SenderOptions struct {
	// Subject is the VAPID subject, mailto: or https: (CheckSubject).
	Subject string
	// Timeout bounds one push (connecting, sending, the answer).
	Timeout time.Duration
	// Concurrency is how many pushes of a batch are in flight at once.
	Concurrency int
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// NewSender returns a Sender signing with keys.
func NewSender(keys *Keys, o SenderOptions) (*Sender, error) {
	if err := CheckSubject(o.Subject); err != nil {
		return nil, fmt.Errorf("push.subject: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	tr := o.Transport
	if tr == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Most pushes of a batch go to a few push services: keep a
		// connection per concurrent push to each.
		t.MaxIdleConnsPerHost = o.Concurrency
		t.MaxIdleConns = 4 * o.Concurrency
		tr = t
	}
	return &Sender{keys: keys, subject: o.Subject, workers: o.Concurrency, now: time.Now,
		client: &http.Client{Transport: tr, Timeout: o.Timeout,
			// A push service answers; it does not redirect.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, nil
}

// PublicKey is the VAPID public key browsers subscribe with.
func (s *Sender) PublicKey() string { return s.keys.Public }

// Send posts every message, Concurrency at a time, and returns their
// outcomes in order. It returns when all are done or ctx ends (the
// messages not sent then are Temporary).
func (s *Sender) Send(ctx context.Context, msgs []Message) []Outcome {
	out := make([]Outcome, len(msgs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.workers, len(msgs)) {
		wg.Go(func() {
			for i := range next {
				out[i] = s.send(ctx, &msgs[i])
			}
		})
	}
	for i := range msgs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// subscriber is the subject as webpush-go v1.4.0 wants it: it prefixes
// "mailto:" to anything that does not start with "https:".
func (s *Sender) subscriber() string { return strings.TrimPrefix(s.subject, "mailto:") }

func (s *Sender) send(ctx context.Context, m *Message) Outcome {
	if err := ctx.Err(); err != nil {
		return Outcome{Kind: Temporary, Message: "not sent: " + err.Error()}
	}
	resp, err := webpush.SendNotificationWithContext(ctx, m.Payload, &webpush.Subscription{
		Endpoint: m.Endpoint, Keys: webpush.Keys{P256dh: m.P256dh, Auth: m.Auth},
	}, &webpush.Options{
		HTTPClient:      s.client,
		Subscriber:      s.subscriber(),
		TTL:             int(m.TTL / time.Second),
		Urgency:         webpush.Urgency(m.Urgency),
		Topic:           m.Topic,
		VAPIDPublicKey:  s.keys.Public,
		VAPIDPrivateKey: s.keys.Private,
	})
	if err != nil {
		var urlErr *url.Error
		switch {
		case errors.Is(err, webpush.ErrMaxPadExceeded):
			return Outcome{Kind: Permanent, Message: "the payload does not fit one push"}
		case errors.As(err, &urlErr) || ctx.Err() != nil:
			// The request did not complete: connecting, a timeout, a
			// dropped connection.
			return Outcome{Kind: Temporary, Message: err.Error()}
		}
		return Outcome{Kind: Permanent, Message: "cannot encrypt for this subscription: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return classify(resp.StatusCode, resp.Header.Get("Retry-After"), body, s.now())
}

// classify maps a push service's answer to an outcome (RFC 8030,
// section 5 and 8.4; RFC 8292 for 401 and 403).
func classify(code int, retryAfter string, body []byte, now time.Time) Outcome {
	o := Outcome{Code: code, Message: fmt.Sprintf("%d %s", code, http.StatusText(code))}
	if msg := strings.TrimSpace(string(bytes.ToValidUTF8(body, nil))); msg != "" {
		o.Message += ": " + cut(strings.Join(strings.Fields(msg), " "), 200)
	}
	switch {
	case code >= 200 && code < 300:
		o.Kind = Sent
	case code == http.StatusNotFound || code == http.StatusGone:
		o.Kind = Gone
	case code == http.StatusTooManyRequests || code >= 500 || code == http.StatusRequestTimeout:
		o.Kind = Temporary
		o.RetryAfter = parseRetryAfter(retryAfter, now)
	default:
		o.Kind = Permanent
	}
	return o
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110,
// section 10.2.3); 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 7*24*time.Hour)
	}
	return 0
}

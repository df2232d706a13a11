package cloche_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is an outlet run by the test: it records each request and
// answers with what answer says (200 by default).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) (int, http.Header) // n: requests so far, this one included
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
			signature: req.Header.Get("webhook-signature"), body: body})
		n, answer := len(r.got), r.answer
		r.mu.Unlock()
		status := http.StatusOK
		if answer != nil {
			var h http.Header
			status, h = answer(n)
			for k, v := range h {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) setAnswer(f func(n int) (int, http.Header)) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

// verifyStandard checks a request the way the Standard Webhooks
// specification tells a receiver to, written here from the specification
// and not from the sender's code: the key is the base64 after "whsec_";
// the signed content is id "." timestamp "." body; the header holds
// space-separated "v1,<base64 HMAC-SHA256>" entries, one of which must
// match (compared in constant time); the timestamp is within 5 minutes.
func verifyStandard(secret string, r received, now time.Time) error {
	if r.id == "" || r.timestamp == "" || r.signature == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	ts, err := strconv.ParseInt(r.timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", r.timestamp, err)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %d is %s away", ts, d)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		return fmt.Errorf("secret %q lacks whsec_", secret)
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.id + "." + r.timestamp + "." + string(r.body)))
	want := mac.Sum(nil)
	for _, entry := range strings.Fields(r.signature) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", r.signature)
}

func webhookConfig(url string) cloche.Config {
	cfg := testConfig(url)
	cfg.Webhooks.RetryBase = cloche.Duration(20 * time.Millisecond)
	cfg.Webhooks.RetryWindow = cloche.Duration(500 * time.Millisecond)
	cfg.Webhooks.MaxAttempts = 4
	return cfg
}

func addWebhook(t *testing.T, svc *cloche.Service, in cloche.WebhookInput) *cloche.WebhookOutlet {
	t.Helper()
	o, err := svc.AddWebhook(context.Background(), in)
	if err != nil {
		t.Fatalf("add webhook %s: %v", in.Name, err)
	}
	return o
}

// Each outlet receives the events of its types (and recipients), one
// request per event, signed per the Standard Webhooks specification, or
// in the chat format; the deliveries are recorded sent.
func TestWebhooksFilteredAndSigned(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, webhookConfig(url))
		loadDirectory(t, svc)
		erp, chat, nord := newReceiver(t), newReceiver(t), newReceiver(t)
		erpOut := addWebhook(t, svc, cloche.WebhookInput{Name: "erp", URL: erp.srv.URL, Types: []string{"task:*"}})
		addWebhook(t, svc, cloche.WebhookInput{Name: "team-chat", URL: chat.srv.URL, Format: "chat", Types: []string{"message:system"}})
		nordOut := addWebhook(t, svc, cloche.WebhookInput{Name: "nord", URL: nord.srv.URL, Types: []string{"*"},
			Recipients: cloche.WebhookRecipients{CompanyIDs: []string{"10"}}})
		if !strings.HasPrefix(erpOut.Secret, "whsec_") || erpOut.Format != cloche.WebhookStandard {
			t.Fatalf("outlet %+v: want a whsec_ secret and the standard format", erpOut)
		}
		start(t, svc)

		body := `<p>Invoice <strong>F-42</strong> validated: <a href="https://endi.example.org/i/42">see it</a>.</p>`
		valid := notify(t, svc, cloche.Notification{Key: "task:status:valid", Title: "Invoice F-42", Body: body},
			cloche.Recipients{GroupNames: []string{"manager"}})
		system := notify(t, svc, cloche.Notification{Key: "message:system", Title: "Maintenance tonight", Body: "Down from 22:00."},
			cloche.Recipients{CompanyID: "10"})
		notify(t, svc, cloche.Notification{Key: "message:internal", Title: "Nobody's"}, cloche.Recipients{UserIDs: []string{"6"}})

		waitFor(t, time.Minute, "webhooks sent", func() (bool, error) {
			ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{Channel: "webhook", State: cloche.DeliverySent})
			return len(ds) == 3, err
		})
		if n := len(erp.requests()); n != 1 {
			t.Fatalf("erp received %d requests, want 1 (task:* only)", n)
		}
		r := erp.requests()[0]
		if err := verifyStandard(erpOut.Secret, r, time.Now()); err != nil {
			t.Fatalf("erp's signature: %v", err)
		}
		if err := verifyStandard(nordOut.Secret, r, time.Now()); err == nil {
			t.Error("erp's request verifies with another outlet's secret")
		}
		tampered := r
		tampered.body = append([]byte(nil), r.body...)
		tampered.body[len(tampered.body)-2] ^= 1
		if err := verifyStandard(erpOut.Secret, tampered, time.Now()); err == nil {
			t.Error("a tampered body verifies")
		}
		var ev struct {
			Type      string    `json:"type"`
			Timestamp time.Time `json:"timestamp"`
			Data      struct {
				EventID    int64  `json:"event_id"`
				Key        string `json:"key"`
				Category   string `json:"category"`
				StatusType string `json:"status_type"`
				Title      string `json:"title"`
				Text       string `json:"text"`
				Link       string `json:"link"`
				Outlet     string `json:"outlet"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatalf("erp body %s: %v", r.body, err)
		}
		if ev.Type != "notification.published" || ev.Data.EventID != valid.EventID || ev.Data.Key != "task:status:valid" ||
			ev.Data.Category != "task" || ev.Data.StatusType != "valid" || ev.Data.Title != "Invoice F-42" ||
			!strings.Contains(ev.Data.Text, "F-42 validated") || ev.Data.Link != "https://endi.example.org/i/42" ||
			ev.Data.Outlet != "erp" || ev.Timestamp.IsZero() {
			t.Errorf("erp event = %+v", ev)
		}

		if n := len(chat.requests()); n != 1 {
			t.Fatalf("chat received %d requests, want 1 (message:system)", n)
		}
		var text struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(chat.requests()[0].body, &text); err != nil || text.Text != "*Maintenance tonight*\nDown from 22:00." {
			t.Errorf("chat body %s (%v)", chat.requests()[0].body, err)
		}
		if chat.requests()[0].signature != "" {
			t.Error("the chat format is signed")
		}

		got := nord.requests()
		if len(got) != 1 {
			t.Fatalf("nord received %d requests, want 1 (sent to company 10)", len(got))
		}
		if err := verifyStandard(nordOut.Secret, got[0], time.Now()); err != nil || !strings.Contains(string(got[0].body),
			fmt.Sprintf(`"event_id":%d`, system.EventID)) {
			t.Errorf("nord got %s (%v)", got[0].body, err)
		}
	})
}

// 5xx answers are retried with the same webhook-id until one succeeds;
// 429 waits for its Retry-After; a 4xx fails at once. An outlet whose
// every attempt failed for the pause window is paused (nothing more goes
// to it) until resumed.
func TestWebhookRetriesAndPause(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		var clock atomic.Int64 // offset from the real time
		now := func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
		cfg := webhookConfig(url)
		cfg.Webhooks.PauseAfter = cloche.Duration(time.Hour)
		svc := open(t, cfg, cloche.WithClock(now))
		loadDirectory(t, svc)
		flaky, slow, broken := newReceiver(t), newReceiver(t), newReceiver(t)
		flaky.setAnswer(func(n int) (int, http.Header) {
			if n <= 2 {
				return http.StatusServiceUnavailable, nil
			}
			return http.StatusOK, nil
		})
		slow.setAnswer(func(int) (int, http.Header) {
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"7200"}}
		})
		broken.setAnswer(func(int) (int, http.Header) { return http.StatusGone, nil })
		flakyOut := addWebhook(t, svc, cloche.WebhookInput{Name: "flaky", URL: flaky.srv.URL, Types: []string{"task:*"}})
		addWebhook(t, svc, cloche.WebhookInput{Name: "slow", URL: slow.srv.URL, Types: []string{"task:*"}})
		brokenOut := addWebhook(t, svc, cloche.WebhookInput{Name: "broken", URL: broken.srv.URL, Format: "chat", Types: []string{"task:*"}})
		start(t, svc)

		first := notify(t, svc, cloche.Notification{Key: "task:status:paid", Title: "Paid"}, cloche.Recipients{UserIDs: []string{"1"}})
		byOutlet := func(eventID int64) map[string]cloche.Delivery {
			ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{Channel: "webhook", EventID: eventID})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]cloche.Delivery{}
			for _, d := range ds {
				out[strings.TrimPrefix(d.Reason, "outlet:")] = d
			}
			return out
		}
		var ds map[string]cloche.Delivery
		waitFor(t, time.Minute, "first round", func() (bool, error) {
			ds = byOutlet(first.EventID)
			return ds["flaky"].State == cloche.DeliverySent && ds["slow"].State == cloche.DeliveryRetrying &&
				ds["broken"].State == cloche.DeliveryFailed, nil
		})
		if d := ds["flaky"]; d.Attempts != 3 {
			t.Errorf("flaky sent after %d attempts, want 3", d.Attempts)
		}
		reqs := flaky.requests()
		if len(reqs) != 3 || reqs[0].id != reqs[2].id || reqs[0].id == "" {
			t.Errorf("flaky saw %d requests, ids %v; want 3 with one webhook-id", len(reqs), reqs)
		}
		if d := ds["slow"]; d.LastCode != 429 || d.NextAttemptAt == nil || d.NextAttemptAt.Sub(*d.LastAttemptAt) < 2*time.Hour {
			t.Errorf("slow: %+v, want a retry no sooner than its Retry-After (2 h)", d)
		}
		if d := ds["broken"]; d.Attempts != 1 || d.LastCode != 410 {
			t.Errorf("broken: %+v, want failed at once with 410", d)
		}
		// flaky failed twice, then answered: its run of failures is over.
		if o, err := svc.Webhook(ctx, flakyOut.ID); err != nil || o.FailingSince != nil || o.LastError != "" {
			t.Errorf("flaky after its success: %+v, %v; want no run of failures", o, err)
		}
		o, err := svc.Webhook(ctx, brokenOut.ID)
		if err != nil || o.PausedAt != nil || o.FailingSince == nil {
			t.Fatalf("broken after one failure: %+v, %v; want failing, not paused", o, err)
		}

		// Two hours on, broken still fails: paused.
		clock.Add(int64(2 * time.Hour))
		second := notify(t, svc, cloche.Notification{Key: "task:status:paid", Title: "Paid again"}, cloche.Recipients{UserIDs: []string{"1"}})
		waitFor(t, time.Minute, "broken paused", func() (bool, error) {
			o, err := svc.Webhook(ctx, brokenOut.ID)
			return o != nil && o.PausedAt != nil, err
		})
		if o, _ := svc.Webhook(ctx, brokenOut.ID); !strings.Contains(o.PauseReason, "410") {
			t.Errorf("pause reason %q, want the last answer", o.PauseReason)
		}
		third := notify(t, svc, cloche.Notification{Key: "task:status:paid", Title: "Paid thrice"}, cloche.Recipients{UserIDs: []string{"1"}})
		if _, ok := byOutlet(third.EventID)["broken"]; ok {
			t.Error("a paused outlet was given a delivery")
		}
		if _, ok := byOutlet(second.EventID)["broken"]; !ok {
			t.Error("the second event has no delivery to broken")
		}

		// Resumed and fixed, it receives again.
		broken.setAnswer(nil)
		if _, err := svc.ResumeWebhook(ctx, brokenOut.ID); err != nil {
			t.Fatal(err)
		}
		before := len(broken.requests())
		fourth := notify(t, svc, cloche.Notification{Key: "task:status:paid", Title: "Paid at last"}, cloche.Recipients{UserIDs: []string{"1"}})
		waitFor(t, time.Minute, "resumed outlet reached", func() (bool, error) {
			return byOutlet(fourth.EventID)["broken"].State == cloche.DeliverySent, nil
		})
		if len(broken.requests()) != before+1 {
			t.Errorf("broken received %d requests after resuming, want 1", len(broken.requests())-before)
		}
		res, err := svc.TestWebhook(ctx, brokenOut.ID)
		if err != nil || !res.OK || res.Status != 200 {
			t.Errorf("test webhook = %+v, %v", res, err)
		}
	})
}

// Bad outlets are refused with the field named, and nothing is stored.
func TestWebhookInput(t *testing.T) {
	svc := open(t, testConfig(testdb.SQLiteURL(t)))
	ctx := context.Background()
	cases := []struct {
		in    cloche.WebhookInput
		field string
	}{
		{cloche.WebhookInput{Name: "", URL: "http://127.0.0.1/x", Types: []string{"*"}}, "name"},
		{cloche.WebhookInput{Name: "a", URL: "ftp://127.0.0.1/x", Types: []string{"*"}}, "url"},
		{cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/x", Format: "xml", Types: []string{"*"}}, "format"},
		{cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/x", Types: nil}, "types"},
		{cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/x", Types: []string{"ta*k"}}, "types"},
		{cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/x", Secret: "whsec_short", Types: []string{"*"}}, "secret"},
	}
	for _, tc := range cases {
		_, err := svc.AddWebhook(ctx, tc.in)
		if !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != tc.field {
			t.Errorf("%+v: %v, want invalid %s", tc.in, err, tc.field)
		}
	}
	if os, err := svc.Webhooks(ctx); err != nil || len(os) != 0 {
		t.Errorf("outlets stored: %v, %v", os, err)
	}
	addWebhook(t, svc, cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/x", Types: []string{"*"}})
	if _, err := svc.AddWebhook(ctx, cloche.WebhookInput{Name: "a", URL: "http://127.0.0.1/y", Types: []string{"*"}}); !errors.Is(err, cloche.ErrConflict) {
		t.Errorf("a second outlet named a: %v, want ErrConflict", err)
	}
}

func notify(t *testing.T, svc *cloche.Service, n cloche.Notification, r cloche.Recipients) *cloche.Result {
	t.Helper()
	res, err := svc.Notify(context.Background(), n, r)
	if err != nil {
		t.Fatalf("notify %s: %v", n.Key, err)
	}
	return res
}

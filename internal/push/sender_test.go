package push_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/push"
	"github.com/cloche/cloche/internal/push/pushtest"
	"github.com/cloche/cloche/internal/store"
)

const subject = "mailto:ops@cloche.test"

func newSender(t *testing.T) (*push.Sender, *pushtest.Server) {
	t.Helper()
	keys, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	s, err := push.NewSender(keys, push.SenderOptions{Subject: subject, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return s, pushtest.New(t, keys.Public, subject)
}

func message(sub *pushtest.Subscription, p push.Payload, status store.StatusType) push.Message {
	b, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	ttl, urgency := push.Policy(status, nil, time.Now())
	return push.Message{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth, Payload: b, TTL: ttl, Urgency: urgency}
}

func TestSendDecryptsWithTheSubscriptionsKeys(t *testing.T) {
	s, ps := newSender(t)
	subs := []*pushtest.Subscription{ps.Subscribe(), ps.Subscribe()}
	long := strings.Repeat("word ", 100)
	msgs := []push.Message{
		message(subs[0], push.Payload{Title: "Invoice paid", Body: "Invoice <b>42</b>\n was paid", URL: "https://app.test/invoices/42", NotificationID: 7, Key: "invoice:paid", Status: "valid"}, store.StatusValid),
		message(subs[1], push.Payload{Title: "Server down", Body: long, NotificationID: 8, Key: "message:system", Status: "caution"}, store.StatusCaution),
	}
	out := s.Send(t.Context(), msgs)
	for i, o := range out {
		if o.Kind != push.Sent || o.Code != http.StatusCreated {
			t.Errorf("outcome %d = %+v, want sent (201)", i, o)
		}
	}
	got := ps.Pushes()
	if len(got) != 2 {
		t.Fatalf("push service received %d pushes, want 2", len(got))
	}
	want := map[string]struct {
		title, body, url string
		id               int64
		ttl, urgency     string
	}{
		subs[0].ID: {"Invoice paid", "Invoice <b>42</b> was paid", "https://app.test/invoices/42", 7, "259200", "normal"},
		subs[1].ID: {"Server down", strings.TrimSpace(strings.Repeat("word ", 40)) + "…", "", 8, "86400", "high"},
	}
	for _, p := range got {
		if p.Err != nil {
			t.Errorf("push to %s: %v", p.Subscription, p.Err)
			continue
		}
		var pl push.Payload
		if err := json.Unmarshal(p.Payload, &pl); err != nil {
			t.Fatalf("payload %q: %v", p.Payload, err)
		}
		w := want[p.Subscription]
		if pl.Title != w.title || pl.Body != w.body || pl.URL != w.url || pl.NotificationID != w.id {
			t.Errorf("payload to %s = %+v, want %+v", p.Subscription, pl, w)
		}
		if p.TTL != w.ttl || p.Urgency != w.urgency {
			t.Errorf("push to %s: TTL %s, Urgency %s; want %s, %s", p.Subscription, p.TTL, p.Urgency, w.ttl, w.urgency)
		}
		if p.Audience != ps.URL || p.Subject != subject || time.Until(p.Expires) < time.Hour {
			t.Errorf("VAPID claims aud %q sub %q exp %v", p.Audience, p.Subject, p.Expires)
		}
	}
}

func TestSendClassifiesAnswers(t *testing.T) {
	s, ps := newSender(t)
	answers := map[string]pushtest.Answer{}
	ps.AnswerWith(func(sub string, _ int) pushtest.Answer { return answers[sub] })
	when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		answer pushtest.Answer
		kind   push.Kind
		after  func(time.Duration) bool
	}{
		{pushtest.Answer{Code: 201}, push.Sent, nil},
		{pushtest.Answer{Code: 404}, push.Gone, nil},
		{pushtest.Answer{Code: 410}, push.Gone, nil},
		{pushtest.Answer{Code: 429, Header: http.Header{"Retry-After": {"120"}}}, push.Temporary, func(d time.Duration) bool { return d == 2*time.Minute }},
		{pushtest.Answer{Code: 429, Header: http.Header{"Retry-After": {when}}}, push.Temporary, func(d time.Duration) bool { return d > 0 && d <= 90*time.Second }},
		{pushtest.Answer{Code: 503}, push.Temporary, func(d time.Duration) bool { return d == 0 }},
		{pushtest.Answer{Code: 500, Header: http.Header{"Retry-After": {"5"}}}, push.Temporary, func(d time.Duration) bool { return d == 5*time.Second }},
		{pushtest.Answer{Code: 413}, push.Permanent, nil},
		{pushtest.Answer{Code: 403}, push.Permanent, nil},
	}
	var msgs []push.Message
	for _, tc := range tests {
		sub := ps.Subscribe()
		answers[sub.ID] = tc.answer
		msgs = append(msgs, message(sub, push.Payload{Title: "x", NotificationID: 1}, store.StatusNeutral))
	}
	out := s.Send(t.Context(), msgs)
	for i, tc := range tests {
		o := out[i]
		if o.Kind != tc.kind || o.Code != tc.answer.Code || (tc.after != nil && !tc.after(o.RetryAfter)) {
			t.Errorf("answer %d %v: outcome %+v (%s), want %s", tc.answer.Code, tc.answer.Header, o, o.Kind, tc.kind)
		}
	}
}

func TestSendUnreachable(t *testing.T) {
	s, ps := newSender(t)
	sub := ps.Subscribe()
	m := message(sub, push.Payload{Title: "x"}, store.StatusNeutral)
	m.Endpoint = "http://127.0.0.1:1/push/x"
	if o := s.Send(t.Context(), []push.Message{m})[0]; o.Kind != push.Temporary || o.Code != 0 {
		t.Errorf("unreachable push service: %+v, want temporary", o)
	}
}

func TestPolicy(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	soon := now.Add(90 * time.Minute)
	past := now.Add(-time.Minute)
	tests := []struct {
		status  store.StatusType
		expires *time.Time
		ttl     time.Duration
		urgency string
	}{
		{store.StatusInvalid, nil, 24 * time.Hour, "high"},
		{store.StatusCaution, nil, 24 * time.Hour, "high"},
		{store.StatusCalendar, nil, 24 * time.Hour, "normal"},
		{store.StatusNeutral, nil, 72 * time.Hour, "normal"},
		{store.StatusValid, &soon, 90 * time.Minute, "normal"},
		{store.StatusDocument, &past, 0, "normal"},
	}
	for _, tc := range tests {
		ttl, u := push.Policy(tc.status, tc.expires, now)
		if ttl != tc.ttl || u != tc.urgency {
			t.Errorf("Policy(%s, %v) = %v, %s; want %v, %s", tc.status, tc.expires, ttl, u, tc.ttl, tc.urgency)
		}
	}
}

func TestCheckSubscription(t *testing.T) {
	ps := pushtest.New(t, "", "")
	sub := ps.Subscribe()
	tests := []struct {
		endpoint, p256dh, auth string
		loopback               bool
		fields                 []string
	}{
		{"https://push.example/abc", sub.P256dh, sub.Auth, false, nil},
		{sub.Endpoint, sub.P256dh, sub.Auth, true, nil},
		{sub.Endpoint, sub.P256dh, sub.Auth, false, []string{"endpoint"}},
		{"http://push.example/abc", sub.P256dh, sub.Auth, true, []string{"endpoint"}},
		{"", "", "", false, []string{"endpoint", "keys.p256dh", "keys.auth"}},
		{"https://push.example/abc", sub.Auth, sub.P256dh, false, []string{"keys.p256dh", "keys.auth"}},
		{"https://push.example/abc", "BA" + strings.Repeat("A", 85), sub.Auth, false, []string{"keys.p256dh"}}, // not on the curve
	}
	for _, tc := range tests {
		err := push.CheckSubscription(tc.endpoint, tc.p256dh, tc.auth, tc.loopback)
		var got []string
		for _, fe := range store.FieldErrors(err) {
			got = append(got, fe.Field)
		}
		if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("CheckSubscription(%q, …, loopback %v) fields %v (%v), want %v", tc.endpoint, tc.loopback, got, err, tc.fields)
		}
	}
}

func TestCheckSubject(t *testing.T) {
	for s, ok := range map[string]bool{"mailto:ops@x.test": true, "https://x.test/contact": true, "": false, "ops@x.test": false, "http://x.test": false, "mailto:nobody": false} {
		if err := push.CheckSubject(s); (err == nil) != ok {
			t.Errorf("CheckSubject(%q) = %v, want ok %v", s, err, ok)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	k, err := push.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	again, err := push.ParseKeys(k.Private)
	if err != nil || *again != *k {
		t.Errorf("ParseKeys(GenerateKeys().Private) = %+v, %v; want %+v", again, err, k)
	}
	if len(k.Public) != 87 {
		t.Errorf("public key %q: want 65 bytes in base64url (87 characters)", k.Public)
	}
}

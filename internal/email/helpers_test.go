package email_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/testdb"
)

// forEachBackend runs fn on a fresh SQLite database and on a fresh
// PostgreSQL schema.
func forEachBackend(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.URL(t))
		})
	}
}

// config is a configuration on url sending through srv (nil: no mail
// server), with retries fast enough for tests.
func config(url string, srv *smtptest.Server) cloche.Config {
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = url
	cfg.TimeZone = "Europe/Paris"
	cfg.Scheduler.PollInterval = cloche.Duration(100 * time.Millisecond)
	if srv != nil {
		cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = srv.Host, srv.Port, "none"
		cfg.SMTP.From = "Cloche <noreply@cloche.test>"
		cfg.SMTP.ReplyTo = "Support <support@cloche.test>"
		cfg.SMTP.Timeout = cloche.Duration(5 * time.Second)
		cfg.SMTP.Connections = 2
	}
	cfg.Email.RetryBase = cloche.Duration(20 * time.Millisecond)
	cfg.Email.RetryWindow = cloche.Duration(500 * time.Millisecond)
	cfg.Email.MaxAttempts = 3
	return cfg
}

func sqliteURL(t *testing.T) string { return testdb.SQLiteURL(t) }

func logger() *slog.Logger {
	if os.Getenv("CLOCHE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// open opens a service, closed at the end of the test; start also runs
// its workers until then.
func open(t *testing.T, cfg cloche.Config, opts ...cloche.Option) *cloche.Service {
	t.Helper()
	svc, err := cloche.Open(context.Background(), cfg, append([]cloche.Option{cloche.WithLogger(logger())}, opts...)...)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

func start(t *testing.T, svc *cloche.Service) {
	t.Helper()
	if err := svc.Start(context.Background()); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

// directory: alice (fr) and bob (en) are managers, dan an inactive one;
// carol (no locale, followed by bob) and erin (en) are members of Sud,
// which has no address; Atelier Nord has one.
const directory = `{
 "companies": [
  {"id": "10", "name": "Atelier Nord", "email": "nord@example.org"},
  {"id": "20", "name": "Sud"}
 ],
 "users": [
  {"id": "1", "email": "alice@example.org", "name": "Alice Martin", "locale": "fr", "groups": ["manager"], "companies": ["10"]},
  {"id": "2", "email": "bob@example.org", "name": "Bob", "locale": "en", "groups": ["manager"]},
  {"id": "3", "email": "carol@example.org", "name": "Carol", "companies": ["20"], "follower_id": "2"},
  {"id": "4", "email": "dan@example.org", "name": "Dan", "groups": ["manager"], "active": false},
  {"id": "5", "email": "erin@example.org", "name": "Erin", "locale": "en", "companies": ["20"]}
 ]
}`

func loadDirectory(t *testing.T, svc *cloche.Service) {
	t.Helper()
	if _, err := svc.ImportDirectory(context.Background(), strings.NewReader(directory)); err != nil {
		t.Fatalf("import: %v", err)
	}
}

func notify(t *testing.T, svc *cloche.Service, n cloche.Notification, r cloche.Recipients) *cloche.Result {
	t.Helper()
	if n.Key == "" {
		n.Key = "task:status:valid"
	}
	res, err := svc.Notify(context.Background(), n, r)
	if err != nil {
		t.Fatalf("notify: %v", err)
	}
	return res
}

func deliveries(t *testing.T, svc *cloche.Service, eventID int64) []cloche.Delivery {
	t.Helper()
	ds, err := svc.Deliveries(context.Background(), cloche.DeliveryFilter{EventID: eventID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// waitDeliveries polls until every delivery of the event satisfies ok,
// and returns them.
func waitDeliveries(t *testing.T, svc *cloche.Service, eventID int64, within time.Duration, what string,
	ok func(d cloche.Delivery) bool) []cloche.Delivery {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ds := deliveries(t, svc, eventID)
		all := len(ds) > 0
		for _, d := range ds {
			all = all && ok(d)
		}
		if all {
			return ds
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries of event %d: not %s within %s: %+v", eventID, what, within, ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func inState(s cloche.DeliveryState) func(cloche.Delivery) bool {
	return func(d cloche.Delivery) bool { return d.State == s }
}

// parsed is a received message, taken apart with net/mail and
// mime/multipart.
type parsed struct {
	header      mail.Header
	subject     string
	contentType string // of the whole message
	text, html  string
	alternative bool // the text and HTML parts are alternatives of each other
	attachments []attachment
}

type attachment struct {
	name, contentType string
	data              []byte
}

func parse(t *testing.T, raw []byte) *parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	p := &parsed{header: m.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject: %v", err)
	}
	p.contentType = m.Header.Get("Content-Type")
	p.walk(t, p.contentType, m.Header.Get("Content-Transfer-Encoding"), "", m.Body, "")
	return p
}

func (p *parsed) walk(t *testing.T, contentType, encoding, disposition string, body io.Reader, parent string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		r := multipart.NewReader(body, params["boundary"])
		for {
			part, err := r.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("%s part: %v", mt, err)
			}
			p.walk(t, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"),
				part.Header.Get("Content-Disposition"), part, mt)
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.EqualFold(encoding, "base64") {
		if data, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), "")); err != nil {
			t.Fatalf("base64 part: %v", err)
		}
	}
	// multipart.Reader decodes quoted-printable parts itself.
	if strings.HasPrefix(disposition, "attachment") {
		_, dp, _ := mime.ParseMediaType(disposition)
		name := dp["filename"]
		if name == "" {
			name = params["name"]
		}
		p.attachments = append(p.attachments, attachment{name: name, contentType: mt, data: data})
		return
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	switch mt {
	case "text/plain":
		p.text = string(data)
		p.alternative = p.alternative || parent == "multipart/alternative"
	case "text/html":
		p.html = string(data)
	default:
		t.Errorf("unexpected part %s", mt)
	}
}

// byRecipient indexes messages by their first envelope recipient.
func byRecipient(t *testing.T, msgs []smtptest.Message) map[string]*parsed {
	t.Helper()
	out := map[string]*parsed{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Errorf("message to %v: want one recipient per message", m.To)
			continue
		}
		if _, dup := out[m.To[0]]; dup {
			t.Errorf("%s received the message twice", m.To[0])
		}
		out[m.To[0]] = parse(t, m.Data)
	}
	return out
}

func contains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}

func lacks(t *testing.T, what, s string, bads ...string) {
	t.Helper()
	for _, b := range bads {
		if strings.Contains(strings.ToLower(s), strings.ToLower(b)) {
			t.Errorf("%s holds %q:\n%s", what, b, s)
		}
	}
}

func ids(ds []cloche.Delivery) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%d:%s:%s ", d.ID, d.Address, d.State)
	}
	return b.String()
}

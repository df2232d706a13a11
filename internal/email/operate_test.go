package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/postgres"
	"github.com/cloche/cloche/internal/store/sqlite"
)

// manyUsers is a directory of n active users in group "many".
func manyUsers(n int) string {
	var b strings.Builder
	b.WriteString(`{"users": [`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id": "m%d", "email": "m%d@example.org", "groups": ["many"]}`, i, i)
	}
	b.WriteString("]}")
	return b.String()
}

// Two processes sending from one database never send a message twice.
func TestTwoWorkersSendEachMessageOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		cfg := config(url, srv)
		cfg.Email.BatchSize = 25 // many claims, so that both workers take part
		a, b := open(t, cfg), open(t, cfg)
		if _, err := a.ImportDirectory(context.Background(), strings.NewReader(manyUsers(300))); err != nil {
			t.Fatal(err)
		}
		start(t, a)
		start(t, b)
		var events []int64
		for i := range 3 {
			res := notify(t, a, cloche.Notification{Title: fmt.Sprint("Many ", i)}, cloche.Recipients{GroupNames: []string{"many"}})
			events = append(events, res.EventID)
		}
		for _, id := range events {
			for _, d := range waitDeliveries(t, b, id, 30*time.Second, "sent", inState(cloche.DeliverySent)) {
				if d.Attempts != 1 {
					t.Errorf("delivery %d: %d attempts", d.ID, d.Attempts)
				}
			}
		}
		msgs := srv.Wait(t, 900, 5*time.Second)
		seen := map[string]int{}
		for _, m := range msgs {
			seen[string(parse(t, m.Data).header.Get("Message-Id"))]++
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("message %s sent %d times", id, n)
			}
		}
		if len(msgs) != 900 || len(seen) != 900 {
			t.Errorf("%d messages, %d distinct: want 900", len(msgs), len(seen))
		}
	})
}

// openStore opens the store behind url, for what the public API does not
// do: playing a worker that died holding a claim.
func openStore(t *testing.T, url string) store.Store {
	t.Helper()
	var (
		st  store.Store
		err error
	)
	if sqlite.IsURL(url) {
		st, err = sqlite.Open(context.Background(), url, nil)
	} else {
		st, err = postgres.Open(context.Background(), url, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Without a mail server, deliveries stay queued and a warning says so,
// once; a worker that died holding a claim does not hold it forever. A
// process with a mail server sends both.
func TestQueuedWithoutServerAndLapsedClaims(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		var logs syncBuffer
		quiet := open(t, config(url, nil), cloche.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if quiet.EmailConfigured() {
			t.Fatal("no mail server is configured")
		}
		loadDirectory(t, quiet)
		start(t, quiet)
		queued := notify(t, quiet, cloche.Notification{Title: "Queued"}, cloche.Recipients{UserIDs: []string{"1"}})
		claimed := notify(t, quiet, cloche.Notification{Title: "Claimed"}, cloche.Recipients{UserIDs: []string{"2"}})
		// Their jobs wait for a process with a mail server, and so do they.
		waitJobs(t, url, "available", 2)
		if ds := deliveries(t, quiet, queued.EventID); len(ds) != 1 || ds[0].State != cloche.DeliveryQueued || ds[0].Attempts != 0 {
			t.Fatalf("without a server: %+v", ds)
		}
		if n := strings.Count(logs.String(), "smtp.host is not set"); n != 1 {
			t.Errorf("warning logged %d times, want once:\n%s", n, logs.String())
		}

		// A worker claims the second one and dies; its lease has lapsed.
		st := openStore(t, url)
		past := time.Now().Add(-time.Hour)
		cs, err := st.DeliveryClaim(context.Background(), &store.DeliveryClaimParams{
			Owner: "dead", Now: time.Now(), LeaseUntil: past, Limit: 10, MessageIDDomain: "cloche.test"})
		if err != nil || len(cs) != 2 {
			t.Fatalf("claim: %d, %v", len(cs), err)
		}
		var deadID string
		for _, c := range cs {
			if c.EventID == claimed.EventID {
				deadID = c.MessageID
			} else if _, err := st.DeliveryRecord(context.Background(), &store.DeliveryRecordParams{Owner: "dead", At: time.Now(),
				Outcomes: []store.DeliveryOutcome{{ID: c.ID, Release: true}}}); err != nil {
				t.Fatal(err)
			}
		}

		srv := smtptest.Start(t, smtptest.Options{})
		sender := open(t, config(url, srv))
		start(t, sender)
		d := waitDeliveries(t, sender, queued.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))[0]
		if d.Attempts != 1 {
			t.Errorf("queued delivery sent after %d attempts, want 1", d.Attempts)
		}
		d = waitDeliveries(t, sender, claimed.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))[0]
		if d.Attempts != 2 || d.MessageID != deadID {
			t.Errorf("rescued delivery %+v: want attempt 2 with the Message-ID %s", d, deadID)
		}
		if got := byRecipient(t, srv.Wait(t, 2, 5*time.Second)); len(got) != 2 {
			t.Errorf("received by %v", keys(got))
		}
	})
}

// waitJobs waits until at least n e-mail jobs are in state.
func waitJobs(t *testing.T, url, state string, n int) {
	t.Helper()
	driver, dsn := "sqlite", "file:"+sqlite.Path(url)
	if !sqlite.IsURL(url) {
		driver, dsn = "pgx", url
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var done int
		err := db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'cloche.email_send' AND state = '` + state + `'`).Scan(&done)
		if err != nil {
			t.Fatal(err)
		}
		if done >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d e-mail jobs %s, want %d", done, state, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestSendTestEmail(t *testing.T) {
	url := sqliteURL(t)
	srv := smtptest.Start(t, smtptest.Options{})
	svc := open(t, config(url, srv))
	res, err := svc.SendTestEmail(context.Background(), "Ops <ops@example.org>")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Response, "OK") || res.To != "ops@example.org" || res.Server != fmt.Sprintf("127.0.0.1:%d", srv.Port) ||
		!strings.HasSuffix(res.MessageID, "@cloche.test") {
		t.Errorf("result %+v", res)
	}
	got := byRecipient(t, srv.Wait(t, 1, 5*time.Second))["ops@example.org"]
	if got == nil || got.subject != "Message de test de Cloche" || got.header.Get("Message-Id") != "<"+res.MessageID+">" {
		t.Fatalf("test message %+v", got)
	}

	srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
		if stage == smtptest.StageRcpt {
			return smtptest.Reply(550, "5.7.1", "Relaying denied")
		}
		return nil
	})
	_, err = svc.SendTestEmail(context.Background(), "ops@example.org")
	var se *cloche.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || se.Message != "5.7.1 Relaying denied" || se.Temporary {
		t.Errorf("refused: %v", err)
	}
	if _, err := svc.SendTestEmail(context.Background(), "not an address"); fieldOf(err) != "address" {
		t.Errorf("bad address: %v", err)
	}
	srv.Stop()
	if _, err := svc.SendTestEmail(context.Background(), "ops@example.org"); !errors.As(err, &se) || !se.Temporary || se.Code != 0 {
		t.Errorf("server down: %v", err)
	}
	none := open(t, config(sqliteURL(t), nil))
	if _, err := none.SendTestEmail(context.Background(), "ops@example.org"); !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != "smtp.host" {
		t.Errorf("no server: %v", err)
	}
}

func fieldOf(err error) string {
	var fe *cloche.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// STARTTLS with authentication, implicit TLS, and what goes wrong with
// them, through the same connections deliveries use.
func TestTLSAndAuth(t *testing.T) {
	serverTLS, roots := smtptest.NewTLS(t)
	trust := cloche.WithSMTPTLSConfig(&tls.Config{RootCAs: roots})
	cases := []struct {
		name      string
		opts      smtptest.Options
		mode      string
		user, pwd string
		trust     bool
		code      int    // of the refusal; 0 for none
		text      string // in the refusal
	}{
		{name: "starttls and auth", opts: smtptest.Options{TLS: serverTLS, Username: "cloche", Password: "s3cret"},
			mode: "starttls", user: "cloche", pwd: "s3cret", trust: true},
		{name: "implicit tls", opts: smtptest.Options{TLS: serverTLS, ImplicitTLS: true}, mode: "tls", trust: true},
		{name: "wrong password", opts: smtptest.Options{TLS: serverTLS, Username: "cloche", Password: "s3cret"},
			mode: "starttls", user: "cloche", pwd: "nope", trust: true, code: 535, text: "credentials invalid"},
		{name: "untrusted certificate", opts: smtptest.Options{TLS: serverTLS}, mode: "starttls", text: "certificate"},
		{name: "no starttls offered", opts: smtptest.Options{}, mode: "starttls", trust: true, text: "STARTTLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.Start(t, tc.opts)
			cfg := config(sqliteURL(t), srv)
			cfg.SMTP.TLS, cfg.SMTP.Username, cfg.SMTP.Password = tc.mode, tc.user, tc.pwd
			var opts []cloche.Option
			if tc.trust {
				opts = append(opts, trust)
			}
			svc := open(t, cfg, opts...)
			_, err := svc.SendTestEmail(context.Background(), "ops@example.org")
			if tc.text == "" {
				if err != nil {
					t.Fatalf("test e-mail: %v", err)
				}
				loadDirectory(t, svc)
				start(t, svc)
				res := notify(t, svc, cloche.Notification{Title: tc.name}, cloche.Recipients{UserIDs: []string{"1", "2"}})
				waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
				srv.Wait(t, 3, 5*time.Second)
				return
			}
			var se *cloche.SMTPError
			if !errors.As(err, &se) || se.Code != tc.code || !strings.Contains(se.Message, tc.text) || !se.Temporary {
				t.Fatalf("err = %v, want a temporary refusal %d mentioning %q", err, tc.code, tc.text)
			}
		})
	}
}

func TestAttachmentsValidated(t *testing.T) {
	cfg := config(sqliteURL(t), nil)
	cfg.Email.MaxAttachmentSize = 1000
	svc := open(t, cfg)
	loadDirectory(t, svc)
	to := cloche.Recipients{UserIDs: []string{"1"}}
	cases := []struct {
		name  string
		atts  []cloche.Attachment
		field string
	}{
		{"too large together", []cloche.Attachment{{Name: "a.bin", Data: make([]byte, 600)}, {Name: "b.bin", Data: make([]byte, 600)}}, "attachments"},
		{"no name", []cloche.Attachment{{Data: []byte("x")}}, "attachments[0].name"},
		{"a path", []cloche.Attachment{{Name: "../etc/passwd", Data: []byte("x")}}, "attachments[0].name"},
		{"bad content type", []cloche.Attachment{{Name: "a", ContentType: "pdf", Data: []byte("x")}}, "attachments[0].content_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Notify(context.Background(), cloche.Notification{Key: "task:status:valid", Title: "T", Attachments: tc.atts}, to)
			if !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != tc.field {
				t.Errorf("err = %v (field %q), want one on %s", err, fieldOf(err), tc.field)
			}
		})
	}
	atts := []cloche.Attachment{{Name: "note.txt", Data: []byte("hello")}}
	res, err := svc.Notify(context.Background(), cloche.Notification{Key: "task:status:valid", Title: "T", Attachments: atts}, to)
	if err != nil || res.Reached[cloche.ChannelEmail] != 1 {
		t.Fatalf("notify: %+v, %v", res, err)
	}
	if atts[0].ContentType != "" {
		t.Error("notify changed the caller's attachments")
	}
}

package email_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
)

const hostileBody = `<p>Your invoice <strong>F-42</strong> was validated.</p>
<p>See <a href="https://endi.example.org/invoices/42">the invoice</a> or
<a href="javascript:alert(document.cookie)">this</a>.</p>
<ul><li>Amount: 1 200 €</li><li>Due: 30 days</li></ul>
<script>alert("x")</script><img src="x" onerror="alert(1)"><p onclick="steal()">Thanks</p>`

// Every e-mail leaves as a well-formed multipart message to the right
// people, in their language, with its attachment and a safe body.
func TestMessages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		svc := open(t, config(url, srv))
		loadDirectory(t, svc)
		start(t, svc)
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 0xff, 0x10, '\n'}, 3000)...)

		// Alice and Bob, not Dan (inactive); with the invoice attached.
		res := notify(t, svc, cloche.Notification{Title: "Facture validée : F-42", Body: hostileBody,
			Context:     &cloche.Context{Type: "invoice", ID: "42"},
			Attachments: []cloche.Attachment{{Name: "facture F-42.pdf", ContentType: "application/pdf", Data: pdf}}},
			cloche.Recipients{GroupNames: []string{"manager"}})
		if res.Reached[cloche.ChannelEmail] != 2 {
			t.Fatalf("reached %v, want 2 addresses", res.Reached)
		}
		ds := waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
		got := byRecipient(t, srv.Wait(t, 2, 5*time.Second))
		if len(got) != 2 || got["alice@example.org"] == nil || got["bob@example.org"] == nil || got["dan@example.org"] != nil {
			t.Fatalf("recipients %v, want alice and bob", keys(got))
		}
		msgIDs := map[string]bool{}
		for _, d := range ds {
			if d.Attempts != 1 || d.LastCode != 250 || d.SentAt == nil || d.MessageID == "" || d.Reason != "group:manager" {
				t.Errorf("delivery %+v", d)
			}
			m := got[d.Address]
			if id := m.header.Get("Message-Id"); id != "<"+d.MessageID+">" {
				t.Errorf("%s: Message-ID %q, delivery says %q", d.Address, id, d.MessageID)
			}
			msgIDs[d.MessageID] = true
		}
		if len(msgIDs) != 2 {
			t.Errorf("message ids are not unique per delivery: %v", msgIDs)
		}
		for addr, m := range got {
			if m.subject != "Facture validée : F-42" {
				t.Errorf("%s: subject %q", addr, m.subject)
			}
			if from := m.header.Get("From"); !strings.Contains(from, "noreply@cloche.test") {
				t.Errorf("%s: From %q", addr, from)
			}
			if rt := m.header.Get("Reply-To"); !strings.Contains(rt, "support@cloche.test") {
				t.Errorf("%s: Reply-To %q", addr, rt)
			}
			if to := m.header.Get("To"); !strings.Contains(to, addr) {
				t.Errorf("%s: To %q", addr, to)
			}
			if m.header.Get("Auto-Submitted") != "auto-generated" || m.header.Get("Date") == "" {
				t.Errorf("%s: headers %v", addr, m.header)
			}
			if !strings.HasPrefix(m.contentType, "multipart/mixed") || !m.alternative {
				t.Errorf("%s: %s, alternative %v: want multipart/mixed holding multipart/alternative", addr, m.contentType, m.alternative)
			}
			if len(m.attachments) != 1 || m.attachments[0].name != "facture F-42.pdf" ||
				m.attachments[0].contentType != "application/pdf" || !bytes.Equal(m.attachments[0].data, pdf) {
				t.Errorf("%s: attachments %d %+v", addr, len(m.attachments), m.attachments)
			}
			contains(t, addr+" text part", m.text, "Your invoice F-42 was validated.",
				"the invoice (https://endi.example.org/invoices/42)", "- Amount: 1 200 €", "Thanks")
			contains(t, addr+" html part", m.html, `<a href="https://endi.example.org/invoices/42">the invoice</a>`,
				"<strong>F-42</strong>", "<li>Amount: 1 200 €</li>", "#15803d", "Facture validée : F-42")
			for _, part := range []string{m.html, m.text} {
				lacks(t, addr, part, "<script", "alert(", "onerror", "onclick", "javascript:")
			}
		}
		contains(t, "alice's footer", got["alice@example.org"].text, "membre du groupe « manager »", "Validé")
		contains(t, "bob's footer", got["bob@example.org"].text, "member of the group “manager”", "Approved")
		if l := got["alice@example.org"].header.Get("Content-Language"); l != "fr" {
			t.Errorf("alice: Content-Language %q", l)
		}
		if l := got["bob@example.org"].header.Get("Content-Language"); l != "en" {
			t.Errorf("bob: Content-Language %q", l)
		}

		cases := []struct {
			name   string
			r      cloche.Recipients
			want   map[string]string // address → text in the footer
			locale map[string]string
		}{
			{"company with its own address", cloche.Recipients{CompanyID: "10"},
				map[string]string{"nord@example.org": "c'est l'adresse de Atelier Nord"}, map[string]string{"nord@example.org": "fr"}},
			{"company without one: its active members", cloche.Recipients{CompanyID: "20"},
				map[string]string{"carol@example.org": "membre de Sud", "erin@example.org": "member of Sud"},
				map[string]string{"carol@example.org": "fr", "erin@example.org": "en"}},
			{"user named directly", cloche.Recipients{UserIDs: []string{"2", "4"}},
				map[string]string{"bob@example.org": "sent to you directly"}, map[string]string{"bob@example.org": "en"}},
			{"follower", cloche.Recipients{FollowerUserID: "3"},
				map[string]string{"bob@example.org": "you follow the account of Carol"}, map[string]string{"bob@example.org": "en"}},
			{"no follower: the fallback groups", cloche.Recipients{FollowerUserID: "1"},
				map[string]string{"alice@example.org": "membre du groupe « manager »", "bob@example.org": "member of the group “manager”"},
				map[string]string{"alice@example.org": "fr", "bob@example.org": "en"}},
		}
		sent := 2
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := notify(t, svc, cloche.Notification{Title: tc.name, Body: "Plain text body.\nLine two."}, tc.r)
				if res.Reached[cloche.ChannelEmail] != len(tc.want) {
					t.Fatalf("reached %v, want %d", res.Reached, len(tc.want))
				}
				waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
				sent += len(tc.want)
				msgs := srv.Wait(t, sent, 5*time.Second)
				got := byRecipient(t, msgs[sent-len(tc.want):])
				for addr, footer := range tc.want {
					m := got[addr]
					if m == nil {
						t.Fatalf("no message to %s (got %v)", addr, keys(got))
					}
					if m.subject != tc.name || len(m.attachments) != 0 || !strings.HasPrefix(m.contentType, "multipart/alternative") {
						t.Errorf("%s: subject %q, %d attachments, %s", addr, m.subject, len(m.attachments), m.contentType)
					}
					contains(t, addr+" text", m.text, "Plain text body.\nLine two.", footer)
					contains(t, addr+" html", m.html, "Plain text body.<br>")
					contains(t, addr+" html", html.UnescapeString(m.html), footer)
					if l := m.header.Get("Content-Language"); l != tc.locale[addr] {
						t.Errorf("%s: Content-Language %q, want %q", addr, l, tc.locale[addr])
					}
				}
			})
		}
		if n := srv.Attempts("dan@example.org"); n != 0 {
			t.Errorf("inactive dan was mailed %d times", n)
		}
	})
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// 451, then 250: retrying with the reason recorded, then sent on the
// second attempt. 550: failed at once with the reason, never tried again.
func TestTemporaryAndPermanentFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		release := make(chan struct{})
		srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
			switch {
			case stage != smtptest.StageRcpt:
			case rcpt == "alice@example.org" && attempt == 1:
				return smtptest.Reply(451, "4.3.0", "Mailbox busy, try later")
			case rcpt == "alice@example.org":
				<-release // hold the second attempt until the test has seen the first
			case rcpt == "bob@example.org":
				return smtptest.Reply(550, "5.1.1", "No such mailbox here")
			}
			return nil
		})
		svc := open(t, config(url, srv))
		loadDirectory(t, svc)
		start(t, svc)
		res := notify(t, svc, cloche.Notification{Title: "Retry"}, cloche.Recipients{GroupNames: []string{"manager"}})

		ds := waitDeliveries(t, svc, res.EventID, 10*time.Second, "retrying and failed", func(d cloche.Delivery) bool {
			return d.State == cloche.DeliveryRetrying || d.State == cloche.DeliveryFailed
		})
		for _, d := range ds {
			switch d.Address {
			case "alice@example.org":
				if d.State != cloche.DeliveryRetrying || d.Attempts != 1 || d.LastCode != 451 ||
					d.LastMessage != "4.3.0 Mailbox busy, try later" || d.NextAttemptAt == nil || d.SentAt != nil {
					t.Errorf("after 451: %+v", d)
				}
			case "bob@example.org":
				if d.State != cloche.DeliveryFailed || d.Attempts != 1 || d.LastCode != 550 ||
					d.LastMessage != "5.1.1 No such mailbox here" || d.NextAttemptAt != nil {
					t.Errorf("after 550: %+v", d)
				}
			}
		}
		close(release)
		ds = waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent or failed", func(d cloche.Delivery) bool {
			return d.State == cloche.DeliverySent || d.State == cloche.DeliveryFailed
		})
		for _, d := range ds {
			if d.Address == "alice@example.org" && (d.State != cloche.DeliverySent || d.Attempts != 2 || d.LastCode != 250 || d.SentAt == nil) {
				t.Errorf("after the retry: %+v", d)
			}
		}
		if n := srv.Attempts("bob@example.org"); n != 1 {
			t.Errorf("a 550 was tried %d times", n)
		}
		if got := byRecipient(t, srv.Messages()); len(got) != 1 || got["alice@example.org"] == nil {
			t.Errorf("received by %v, want alice only", keys(got))
		}

		// The operator retries the failed one once the address is fixed
		// on the server's side.
		srv.Handle(nil)
		var failed, sent cloche.Delivery
		for _, d := range ds {
			if d.State == cloche.DeliveryFailed {
				failed = d
			} else {
				sent = d
			}
		}
		if _, err := svc.RetryDelivery(context.Background(), sent.ID); !errors.Is(err, cloche.ErrConflict) {
			t.Errorf("retry of a sent delivery: %v, want ErrConflict", err)
		}
		d, err := svc.RetryDelivery(context.Background(), failed.ID)
		if err != nil || d.State != cloche.DeliveryQueued || d.Attempts != 0 || d.LastCode != 550 {
			t.Fatalf("RetryDelivery = %+v, %v", d, err)
		}
		waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
		if n := srv.Attempts("bob@example.org"); n != 2 {
			t.Errorf("bob tried %d times, want 2", n)
		}
	})
}

// Temporary failures to the end: failed after the last attempt, saying so.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
		if stage == smtptest.StageData {
			return smtptest.Reply(452, "4.2.2", "Mailbox full")
		}
		return nil
	})
	cfg := config(sqliteURL(t), srv)
	cfg.Email.MaxAttempts = 2
	svc := open(t, cfg)
	loadDirectory(t, svc)
	start(t, svc)
	res := notify(t, svc, cloche.Notification{Title: "Full"}, cloche.Recipients{UserIDs: []string{"1"}})
	ds := waitDeliveries(t, svc, res.EventID, 10*time.Second, "failed", inState(cloche.DeliveryFailed))
	if d := ds[0]; d.Attempts != 2 || d.LastCode != 452 || d.LastMessage != "gave up after 2 attempts: 4.2.2 Mailbox full" {
		t.Errorf("delivery %+v", d)
	}
	if n := srv.Attempts("alice@example.org"); n != 2 {
		t.Errorf("tried %d times, want 2", n)
	}
}

// A connection the server drops is dialled again and the message sent
// on the new one, within the same attempt.
func TestDroppedConnection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		var mails atomic.Int32
		srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
			if stage == smtptest.StageMail && mails.Add(1) == 2 {
				return smtptest.Drop // the second message's MAIL FROM
			}
			return nil
		})
		cfg := config(url, srv)
		cfg.SMTP.Connections = 1
		svc := open(t, cfg)
		loadDirectory(t, svc)
		start(t, svc)
		res := notify(t, svc, cloche.Notification{Title: "Dropped"}, cloche.Recipients{GroupNames: []string{"manager"}})
		ds := waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))
		for _, d := range ds {
			if d.Attempts != 1 {
				t.Errorf("%s: %d attempts, want 1 (redialled within the attempt)", d.Address, d.Attempts)
			}
		}
		msgs := srv.Wait(t, 2, 5*time.Second)
		if len(byRecipient(t, msgs)) != 2 || srv.Connections() != 2 || msgs[0].Conn == msgs[1].Conn {
			t.Errorf("%d messages over %d connections (%d, %d): want 2 over 2", len(msgs), srv.Connections(), msgs[0].Conn, msgs[1].Conn)
		}
	})
}

// A server that is down: every delivery retries, with the reason, and
// leaves once the server is back; a connection it closed while idle is
// dialled again.
func TestServerDown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		srv := smtptest.Start(t, smtptest.Options{})
		cfg := config(url, srv)
		cfg.Email.BatchSize = 1 // the batch claimed ahead is given back when the server is down
		cfg.Email.MaxAttempts = 10
		svc := open(t, cfg)
		loadDirectory(t, svc)
		start(t, svc)
		first := notify(t, svc, cloche.Notification{Title: "Before"}, cloche.Recipients{UserIDs: []string{"1"}})
		waitDeliveries(t, svc, first.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))

		srv.Stop() // also closes the idle connection the pool keeps
		res := notify(t, svc, cloche.Notification{Title: "Down"}, cloche.Recipients{GroupNames: []string{"manager"}})
		waitDeliveries(t, svc, res.EventID, 10*time.Second, "tried while down", func(d cloche.Delivery) bool {
			return d.LastCode == 0 && strings.Contains(d.LastMessage, "connection refused") && d.State != cloche.DeliveryFailed
		})
		srv.Restart(t)
		ds := waitDeliveries(t, svc, res.EventID, 15*time.Second, "sent", inState(cloche.DeliverySent))
		for _, d := range ds {
			if d.Attempts < 2 || d.LastCode != 250 {
				t.Errorf("after the restart: %+v", d)
			}
		}
		srv.Wait(t, 3, 5*time.Second)
	})
}

// A server that stops answering: the command times out, the message is
// tried once more on a new connection, then retried later.
func TestTimeout(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	release := make(chan struct{})
	srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
		if stage == smtptest.StageRcpt && attempt <= 2 {
			<-release
		}
		return nil
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	cfg := config(sqliteURL(t), srv)
	cfg.SMTP.Timeout = cloche.Duration(300 * time.Millisecond)
	svc := open(t, cfg)
	loadDirectory(t, svc)
	start(t, svc)
	res := notify(t, svc, cloche.Notification{Title: "Slow"}, cloche.Recipients{UserIDs: []string{"1"}})
	d := waitDeliveries(t, svc, res.EventID, 10*time.Second, "retrying", inState(cloche.DeliveryRetrying))[0]
	if d.Attempts != 1 || d.LastCode != 0 || !strings.Contains(d.LastMessage, "timeout") {
		t.Errorf("after a timeout: %+v", d)
	}
	if n := srv.Attempts("alice@example.org"); n != 2 {
		t.Errorf("RCPT sent %d times in the first attempt, want 2 (once more on a new connection)", n)
	}
	close(release)
	d = waitDeliveries(t, svc, res.EventID, 10*time.Second, "sent", inState(cloche.DeliverySent))[0]
	if d.Attempts != 2 {
		t.Errorf("sent after %d attempts, want 2", d.Attempts)
	}
}

package email_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
)

// The fault suite's SMTP faults: what the server does to a delivery's
// attempts, and how many copies of its message it accepts in the end.
// One copy at most, except when the connection is lost after the whole
// message was sent and before the server's answer: the server may have
// kept it, the sender cannot know, and sends it again on its next attempt
// (with the same Message-ID, by which the recipient's side can tell the
// copies apart). SMTP leaves no way around that duplicate.
func TestSMTPFaults(t *testing.T) {
	const alice = "alice@example.org"
	cases := []struct {
		name        string
		maxAttempts int
		// handler answers the commands about alice; hang is closed when
		// the test ends (a handler waiting on it never answers).
		handler  func(hang <-chan struct{}) smtptest.Handler
		state    cloche.DeliveryState
		attempts int    // the delivery's attempt count at the end
		code     int    // its last SMTP code
		message  string // in its last message
		rcpts    int    // RCPT commands the server saw for alice
		copies   int    // messages the server accepted for alice
	}{{
		name: "451 then success",
		handler: func(<-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageRcpt && attempt == 1 {
					return smtptest.Reply(451, "4.3.0", "Mailbox busy, try later")
				}
				return nil
			}
		},
		state: cloche.DeliverySent, attempts: 2, code: 250, rcpts: 2, copies: 1,
	}, {
		name: "550",
		handler: func(<-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageRcpt {
					return smtptest.Reply(550, "5.1.1", "No such mailbox here")
				}
				return nil
			}
		},
		state: cloche.DeliveryFailed, attempts: 1, code: 550, message: "No such mailbox here", rcpts: 1, copies: 0,
	}, {
		name: "connection dropped mid-DATA",
		handler: func(<-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageBody && attempt == 1 {
					return smtptest.Drop
				}
				return nil
			}
		},
		state: cloche.DeliverySent, attempts: 2, code: 250, rcpts: 2, copies: 1,
	}, {
		name: "connection dropped after DATA, message not kept",
		handler: func(<-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageData && attempt == 1 {
					return smtptest.Drop
				}
				return nil
			}
		},
		state: cloche.DeliverySent, attempts: 2, code: 250, rcpts: 2, copies: 1,
	}, {
		// The one duplicate SMTP cannot avoid.
		name: "connection dropped after DATA, message kept",
		handler: func(<-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageData && attempt == 1 {
					return smtptest.AcceptDrop
				}
				return nil
			}
		},
		state: cloche.DeliverySent, attempts: 2, code: 250, rcpts: 2, copies: 2,
	}, {
		// Each attempt times out, dials again and times out once more.
		name:        "server never answers",
		maxAttempts: 2,
		handler: func(hang <-chan struct{}) smtptest.Handler {
			return func(stage smtptest.Stage, rcpt string, attempt int) error {
				if stage == smtptest.StageRcpt {
					<-hang
				}
				return nil
			}
		},
		state: cloche.DeliveryFailed, attempts: 2, code: 0, message: "gave up after 2 attempts", rcpts: 4, copies: 0,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forEachBackend(t, func(t *testing.T, url string) {
				srv := smtptest.Start(t, smtptest.Options{})
				hang := make(chan struct{})
				t.Cleanup(func() { close(hang) })
				srv.Handle(tc.handler(hang))
				cfg := config(url, srv)
				cfg.SMTP.Timeout = cloche.Duration(2 * time.Second)
				if tc.maxAttempts > 0 {
					cfg.Email.MaxAttempts = tc.maxAttempts
				}
				svc := open(t, cfg)
				loadDirectory(t, svc)
				start(t, svc)
				res := notify(t, svc, cloche.Notification{Title: "Fault"}, cloche.Recipients{UserIDs: []string{"1"}})
				ds := waitDeliveries(t, svc, res.EventID, 60*time.Second, "sent or failed", func(d cloche.Delivery) bool {
					return d.State == cloche.DeliverySent || d.State == cloche.DeliveryFailed
				})
				d := ds[0]
				if len(ds) != 1 || d.Address != alice {
					t.Fatalf("deliveries %s, want alice's only", ids(ds))
				}
				if d.State != tc.state || d.Attempts != tc.attempts || d.LastCode != tc.code ||
					!strings.Contains(d.LastMessage, tc.message) {
					t.Errorf("delivery %+v\nwant %s after %d attempts, last answer %d %q", d, tc.state, tc.attempts, tc.code, tc.message)
				}
				if n := srv.Attempts(alice); n != tc.rcpts {
					t.Errorf("server saw %d RCPT for alice, want %d", n, tc.rcpts)
				}
				msgs := srv.Messages()
				if len(msgs) != tc.copies {
					t.Fatalf("server accepted %d messages, want %d", len(msgs), tc.copies)
				}
				for _, m := range msgs {
					p := parse(t, m.Data)
					if id := p.header.Get("Message-Id"); id != "<"+d.MessageID+">" {
						t.Errorf("copy with Message-ID %q, the delivery's is %q", id, d.MessageID)
					}
					if got := p.header.Get("X-Cloche-Delivery"); got != strconv.FormatInt(d.ID, 10) {
						t.Errorf("copy of delivery %q, want %d", got, d.ID)
					}
				}
			})
		})
	}
}

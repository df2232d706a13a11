package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
)

// withMailServer points the harness at srv.
func (h *harness) withMailServer(srv *smtptest.Server) {
	h.env = append(h.env,
		"CLOCHE_SMTP__HOST="+srv.Host, fmt.Sprintf("CLOCHE_SMTP__PORT=%d", srv.Port), "CLOCHE_SMTP__TLS=none",
		"CLOCHE_SMTP__FROM=Cloche <noreply@cloche.test>", "CLOCHE_EMAIL__RETRY_BASE=20ms", "CLOCHE_EMAIL__RETRY_WINDOW=1s")
}

// serve runs `cloche serve` until the end of the test.
func (h *harness) serve() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := newWatchWriter("cloche serving")
	done := make(chan int, 1)
	go func() {
		var stdout strings.Builder
		done <- Main(ctx, []string{"serve"}, strings.NewReader(""), &stdout, stderr, h.env)
	}()
	h.t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				h.t.Errorf("serve exited %d:\n%s", code, stderr)
			}
		case <-time.After(40 * time.Second):
			h.t.Errorf("serve did not stop:\n%s", stderr)
		}
	})
	select {
	case <-stderr.seen:
	case code := <-done:
		h.t.Fatalf("serve ended with %d before serving:\n%s", code, stderr)
	case <-time.After(30 * time.Second):
		h.t.Fatalf("serve did not start:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "email=true") {
		h.t.Errorf("serve does not say it sends e-mail:\n%s", stderr)
	}
}

// A message refused for good, then retried by the operator.
func TestDeliveriesRetry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		srv := smtptest.Start(t, smtptest.Options{})
		srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
			if stage == smtptest.StageRcpt {
				return smtptest.Reply(550, "5.1.1", "Unknown mailbox")
			}
			return nil
		})
		h.withMailServer(srv)
		h.importDirectory()
		h.serve()

		var res cloche.Result
		h.json(&res, "notify", "-k", "task:status:valid", "--title", "Refused", "-u", "1")
		var ds []cloche.Delivery
		waitFor(t, 15*time.Second, "the delivery to fail", func() bool {
			h.json(&ds, "deliveries", "list", "--event", fmt.Sprint(res.EventID))
			return len(ds) == 1 && ds[0].State == cloche.DeliveryFailed
		})
		id := fmt.Sprint(ds[0].ID)
		show := h.ok("deliveries", "show", id)
		for _, want := range []string{"alice@example.org", "failed", "550 5.1.1 Unknown mailbox", "direct", "@cloche.test"} {
			if !strings.Contains(show, want) {
				t.Errorf("deliveries show lacks %q:\n%s", want, show)
			}
		}
		if list := h.ok("deliveries", "list", "--status", "failed"); !strings.Contains(list, "550 5.1.1 Unknown mailbox") ||
			!strings.Contains(list, "NEXT ATTEMPT") {
			t.Errorf("deliveries list --status failed:\n%s", list)
		}

		h.fails(2, []string{"deliveries", "retry"}, "give a delivery id, or --failed")
		h.fails(2, []string{"deliveries", "retry", id, "--failed"}, "not both")
		h.fails(2, []string{"deliveries", "retry", id, "--event", "3"}, "--event goes with --failed")
		h.fails(1, []string{"deliveries", "retry", "999"}, "not found")

		srv.Handle(nil)
		if out := h.ok("deliveries", "retry", id); !strings.Contains(out, "delivery "+id+" to alice@example.org queued again") {
			t.Errorf("deliveries retry printed %q", out)
		}
		waitFor(t, 15*time.Second, "the retried delivery to be sent", func() bool {
			h.json(&ds, "deliveries", "list", "--event", fmt.Sprint(res.EventID))
			return ds[0].State == cloche.DeliverySent
		})
		if ds[0].Attempts != 1 || ds[0].LastCode != 250 {
			t.Errorf("after the retry: %+v", ds[0])
		}
		h.fails(1, []string{"deliveries", "retry", id}, "delivery "+id+" is sent: only a failed or retrying delivery can be retried")
		var many struct{ Retried int }
		h.json(&many, "deliveries", "retry", "--failed")
		if many.Retried != 0 {
			t.Errorf("retry --failed with nothing failed: %+v", many)
		}
		if got := srv.Wait(t, 1, 5*time.Second); len(got) != 1 {
			t.Errorf("%d messages", len(got))
		}

		// Files attached from the command line.
		pdf := h.file("facture-42.pdf", "%PDF-1.4 invoice 42")
		h.json(&res, "notify", "-k", "task:status:paid", "--title", "Paid", "-u", "2", "--attach", pdf)
		msg := string(srv.Wait(t, 2, 10*time.Second)[1].Data)
		for _, want := range []string{`filename="facture-42.pdf"`, "application/pdf", "Paid"} {
			if !strings.Contains(msg, want) {
				t.Errorf("attached message lacks %q:\n%s", want, msg)
			}
		}
		h.fails(1, []string{"notify", "-k", "task:status:paid", "--title", "T", "-u", "2", "--attach", h.dir + "/none.pdf"}, "--attach")
	})
}

func TestEmailTest(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.fails(1, []string{"email", "test", "ops@example.org"}, "smtp.host: is not set")
	srv := smtptest.Start(t, smtptest.Options{})
	h.withMailServer(srv)
	out := h.ok("email", "test", "ops@example.org")
	for _, want := range []string{"sent to ops@example.org through 127.0.0.1:", "(none)", "server answered: 250 ", "message id: <"} {
		if !strings.Contains(out, want) {
			t.Errorf("email test lacks %q:\n%s", want, out)
		}
	}
	var res cloche.TestEmailResult
	h.json(&res, "email", "test", "ops@example.org")
	if res.To != "ops@example.org" || res.Response == "" {
		t.Errorf("email test --json: %+v", res)
	}
	srv.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
		if stage == smtptest.StageData {
			return smtptest.Reply(554, "5.7.1", "Message rejected as spam")
		}
		return nil
	})
	h.fails(1, []string{"email", "test", "ops@example.org"}, "554 5.7.1 Message rejected as spam")
	h.fails(2, []string{"email", "test"}, "expected")
	if n := srv.Count(); n != 2 {
		t.Errorf("server accepted %d messages, want 2", n)
	}
}

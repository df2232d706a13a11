package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/email/smtptest"
)

// An e-mail the mail server refused for good is sent again from the
// console: the button is on the deliveries page and the event's, and the
// retried e-mail goes.
func TestRetryDeliveryFromConsole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		mail := smtptest.Start(t, smtptest.Options{})
		mail.Handle(func(stage smtptest.Stage, rcpt string, attempt int) error {
			if stage == smtptest.StageRcpt {
				return smtptest.Reply(550, "5.1.1", "Unknown mailbox")
			}
			return nil
		})
		cfg := cloche.DefaultConfig()
		cfg.DatabaseURL = dbURL
		cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS = mail.Host, mail.Port, "none"
		cfg.SMTP.From = "Cloche <noreply@cloche.test>"
		svc, err := cloche.Open(ctx, cfg, cloche.WithLogger(testLogger()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		if err := svc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Stop(context.Background()) })
		loadDemo(t, svc)
		h := newHarnessOn(t, svc, nil)
		h.mustLogin()

		res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Invoice validated"}, cloche.Recipients{UserIDs: []string{"1"}})
		if err != nil {
			t.Fatal(err)
		}
		delivery := func() cloche.Delivery {
			t.Helper()
			ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: res.EventID})
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries of event %d: %v %v", res.EventID, ds, err)
			}
			return ds[0]
		}
		waitState := func(want cloche.DeliveryState) cloche.Delivery {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for {
				d := delivery()
				if d.State == want {
					return d
				}
				if time.Now().After(deadline) {
					t.Fatalf("delivery %d is %s, want %s", d.ID, d.State, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		d := waitState(cloche.DeliveryFailed)
		action := fmt.Sprintf(`action="/console/deliveries/%d/retry"`, d.ID)
		list := "/console/deliveries?state=failed"
		p := h.get(list)
		wantContains(t, "failed deliveries", p, action, `name="next" value="`+strings.ReplaceAll(list, "&", "&amp;")+`"`, "Retry e-mail", "550")
		wantContains(t, "the event's page", h.get("/console/events/"+itoa(res.EventID)), action, `name="next" value="/console/events/`+itoa(res.EventID)+`"`)

		csrf := h.token(list)
		// The form's token is required, as on every form.
		wantStatus(t, "retry without the form's token", h.post(fmt.Sprintf("/console/deliveries/%d/retry", d.ID), url.Values{"next": {list}}), http.StatusForbidden)
		if got := delivery().State; got != cloche.DeliveryFailed {
			t.Fatalf("a refused form retried the delivery (%s)", got)
		}

		mail.Handle(nil) // the mailbox exists now
		p = h.post(fmt.Sprintf("/console/deliveries/%d/retry", d.ID), url.Values{"csrf": {csrf}, "next": {list}})
		wantStatus(t, "retry", p, http.StatusSeeOther)
		if p.location() != list {
			t.Errorf("after retrying, the console goes to %q, want back to %q", p.location(), list)
		}
		wantContains(t, "the page after the retry", h.get(list), fmt.Sprintf("E-mail %d to alice.martin@coop.example.org queued again.", d.ID))
		if sent := waitState(cloche.DeliverySent); sent.Attempts != 1 {
			t.Errorf("the retried delivery: %+v, want sent at its first new attempt", sent)
		}
		if got := mail.Wait(t, 1, 5*time.Second); len(got) != 1 {
			t.Errorf("%d messages received", len(got))
		}
		if p := h.get("/console/deliveries"); strings.Contains(p.body, action) {
			t.Errorf("a sent e-mail still has a retry button")
		}

		// A sent one is not retried; the form cannot send the operator away.
		p = h.post(fmt.Sprintf("/console/deliveries/%d/retry", d.ID), url.Values{"csrf": {csrf}, "next": {"https://elsewhere.example/"}})
		wantStatus(t, "retry a sent e-mail", p, http.StatusSeeOther)
		if p.location() != "/console/deliveries" {
			t.Errorf("next outside the console led to %q", p.location())
		}
		wantContains(t, "the page after retrying a sent e-mail", h.get("/console/deliveries"),
			fmt.Sprintf("E-mail %d was not retried: it is sent.", d.ID))
		wantStatus(t, "retry an unknown e-mail", h.post("/console/deliveries/424242/retry", url.Values{"csrf": {csrf}}), http.StatusNotFound)
	})
}

func TestLocalPath(t *testing.T) {
	c := &Console{prefix: "/console"}
	for next, want := range map[string]string{
		"/console/deliveries?state=failed&event=3": "/console/deliveries?state=failed&event=3",
		"/console/events/12":                       "/console/events/12",
		"":                                         "/def",
		"/console":                                 "/def",
		"/api/v1/types":                            "/def",
		"https://elsewhere.example/console/":       "/def",
		"//elsewhere.example/console/":             "/def",
		"/console/\\elsewhere":                     "/def",
		"javascript:alert(1)":                      "/def",
	} {
		if got := c.localPath(next, "/def"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", next, got, want)
		}
	}
}

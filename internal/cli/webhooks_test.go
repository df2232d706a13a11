package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// webhooks add, list, test, pause, resume and remove; bad input names
// the field; deliveries list by channel.
func TestWebhookCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		var hits atomic.Int32
		var status atomic.Int32
		status.Store(http.StatusNoContent)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			if r.Header.Get("webhook-signature") == "" || !strings.HasPrefix(r.Header.Get("webhook-signature"), "v1,") {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.WriteHeader(int(status.Load()))
		}))
		defer srv.Close()

		out := h.ok("webhooks", "add", "erp", srv.URL, "--type", "task:*", "--type", "message:system", "--company", "10")
		if !strings.Contains(out, `webhook 1 "erp" added`) || !strings.Contains(out, "signing secret: whsec_") {
			t.Errorf("add printed %q", out)
		}
		h.fails(1, []string{"webhooks", "add", "erp", srv.URL, "--type", "*"}, "erp")
		h.fails(1, []string{"webhooks", "add", "bad", "ftp://x", "--type", "*"}, "url:")
		h.fails(2, []string{"webhooks", "add", "bad", srv.URL}, "--type")

		list := h.ok("webhooks", "list")
		if !strings.Contains(list, "erp") || !strings.Contains(list, "task:*,message:system") || !strings.Contains(list, "company 10") ||
			!strings.Contains(list, "active") {
			t.Errorf("list:\n%s", list)
		}
		var outlets []struct {
			Name   string `json:"name"`
			Secret string `json:"secret"`
		}
		h.json(&outlets, "webhooks", "list")
		if len(outlets) != 1 || !strings.HasPrefix(outlets[0].Secret, "whsec_") {
			t.Errorf("list --json: %+v", outlets)
		}

		if out := h.ok("webhooks", "test", "erp"); !strings.Contains(out, "outlet answered: 204") || hits.Load() != 1 {
			t.Errorf("test printed %q (%d hits)", out, hits.Load())
		}
		status.Store(http.StatusInternalServerError)
		h.fails(1, []string{"webhooks", "test", "1"}, "answered 500")

		if out := h.ok("webhooks", "pause", "erp"); !strings.Contains(out, "paused") {
			t.Errorf("pause printed %q", out)
		}
		if list := h.ok("webhooks", "list"); !strings.Contains(list, "paused") {
			t.Errorf("list after pause:\n%s", list)
		}
		if out := h.ok("webhooks", "resume", "erp"); !strings.Contains(out, "resumed") {
			t.Errorf("resume printed %q", out)
		}
		h.ok("deliveries", "list", "--channel", "webhook")
		h.fails(1, []string{"deliveries", "list", "--channel", "pigeon"}, "channel")
		h.ok("webhooks", "remove", "erp")
		h.fails(1, []string{"webhooks", "remove", "erp"}, "erp")
	})
}

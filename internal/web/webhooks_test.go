package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// The webhooks page lists outlets, adds one (a refused form comes back
// with the field marked), tests, pauses, resumes and removes it.
func TestWebhooksPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		var hits atomic.Int32
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		defer rcv.Close()
		h := newHarness(t, dbURL, nil)
		h.mustLogin()
		wantContains(t, "empty page", h.get("/console/webhooks"), "No webhook yet.", "Add a webhook")
		csrf := h.token("/console/webhooks")

		p := h.post("/console/webhooks", url.Values{"csrf": {csrf}, "name": {"erp"}, "url": {"ftp://nope"}, "format": {"standard"}, "types": {"task:*"}})
		wantStatus(t, "a bad URL", p, http.StatusUnprocessableEntity)
		wantContains(t, "a bad URL", p, `aria-invalid="true"`, "is not an http or https URL", `value="erp"`)

		p = h.post("/console/webhooks", url.Values{"csrf": {csrf}, "name": {"erp"}, "url": {rcv.URL}, "format": {"chat"},
			"types": {"task:*, message:system"}, "companies": {"10"}})
		wantStatus(t, "add", p, http.StatusSeeOther)
		wantContains(t, "the list", h.get("/console/webhooks"), `Webhook &#34;erp&#34; added.`, "task:*, message:system", "active")
		os, err := h.svc.Webhooks(context.Background())
		if err != nil || len(os) != 1 || os[0].Format != "chat" || os[0].Recipients.CompanyIDs[0] != "10" {
			t.Fatalf("outlets %+v, %v", os, err)
		}
		id := itoa(os[0].ID)
		wantStatus(t, "test", h.post("/console/webhooks/"+id+"/test", url.Values{"csrf": {csrf}}), http.StatusSeeOther)
		if hits.Load() != 1 {
			t.Errorf("the receiver got %d requests, want 1", hits.Load())
		}
		wantContains(t, "after the test", h.get("/console/webhooks"), "the outlet answered 200")
		wantStatus(t, "pause without the token", h.post("/console/webhooks/"+id+"/pause", url.Values{}), http.StatusForbidden)
		wantStatus(t, "pause", h.post("/console/webhooks/"+id+"/pause", url.Values{"csrf": {csrf}}), http.StatusSeeOther)
		if p := h.get("/console/webhooks"); !strings.Contains(p.body, "paused") || !strings.Contains(p.body, "/resume") {
			t.Errorf("a paused outlet is not shown so:\n%s", p.body)
		}
		wantStatus(t, "resume", h.post("/console/webhooks/"+id+"/resume", url.Values{"csrf": {csrf}}), http.StatusSeeOther)
		wantStatus(t, "remove", h.post("/console/webhooks/"+id+"/remove", url.Values{"csrf": {csrf}}), http.StatusSeeOther)
		wantContains(t, "after removing", h.get("/console/webhooks"), "No webhook yet.")
		wantStatus(t, "an unknown outlet", h.post("/console/webhooks/4242/pause", url.Values{"csrf": {csrf}}), http.StatusNotFound)
	})
}

package httpapi

import (
	"net/http"
	"testing"

	"github.com/cloche/cloche/internal/push/pushtest"
)

func TestPushSubscriptions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		cfg := testConfig(dbURL)
		cfg.Push.AllowLoopback = true
		cfg.Push.Subject = "mailto:ops@cloche.test"
		h := newHarness(t, cfg, Options{})
		h.loadDirectory()
		ps := pushtest.New(t, "", "")
		tok := h.userToken("1")

		var key pushKeyResponse
		h.do(req{method: "GET", path: "/api/v1/push/public-key"}).want(t, http.StatusOK, &key)
		if len(key.PublicKey) != 87 || !key.Enabled {
			t.Fatalf("public key %+v: want 87 base64url characters, enabled", key)
		}
		var again pushKeyResponse
		h.do(req{method: "GET", path: "/api/v1/push/public-key"}).want(t, http.StatusOK, &again)
		if again.PublicKey != key.PublicKey {
			t.Errorf("public key changed: %q then %q", key.PublicKey, again.PublicKey)
		}

		subscribe := func(s *pushtest.Subscription) *response {
			return h.do(req{method: "POST", path: "/api/v1/me/push-subscriptions", token: tok, body: map[string]any{
				"endpoint": s.Endpoint, "expirationTime": nil, "keys": map[string]string{"p256dh": s.P256dh, "auth": s.Auth}}})
		}
		s1, s2 := ps.Subscribe(), ps.Subscribe()
		var got pushSubscriptionResponse
		subscribe(s1).want(t, http.StatusCreated, &got)
		if got.ID == 0 || got.Endpoint != s1.Endpoint {
			t.Errorf("subscribe = %+v", got)
		}
		subscribe(s2).want(t, http.StatusCreated, nil)
		subscribe(s1).want(t, http.StatusCreated, nil) // again: the same row
		subs, err := h.svc.PushSubscriptions(t.Context(), []string{"1"})
		if err != nil || len(subs) != 2 {
			t.Fatalf("user 1 has %d subscriptions (%v), want 2", len(subs), err)
		}

		bad := []struct {
			body  any
			field string
		}{
			{map[string]any{"endpoint": "http://push.example/x", "keys": map[string]string{"p256dh": s1.P256dh, "auth": s1.Auth}}, "endpoint"},
			{map[string]any{"endpoint": s1.Endpoint, "keys": map[string]string{"p256dh": s1.Auth, "auth": s1.Auth}}, "keys.p256dh"},
			{map[string]any{"endpoint": s1.Endpoint, "keys": map[string]string{"p256dh": s1.P256dh, "auth": "abc"}}, "keys.auth"},
			{map[string]any{"endpoint": s1.Endpoint, "keys": map[string]string{"p256dh": s1.P256dh, "auth": s1.Auth}, "extra": 1}, "extra"},
		}
		for _, b := range bad {
			h.do(req{method: "POST", path: "/api/v1/me/push-subscriptions", token: tok, body: b.body}).
				wantError(t, http.StatusUnprocessableEntity, "invalid_field", b.field)
		}
		h.do(req{method: "POST", path: "/api/v1/me/push-subscriptions", token: h.key, body: map[string]any{}}).want(t, http.StatusForbidden, nil)
		h.do(req{method: "POST", path: "/api/v1/me/push-subscriptions", body: map[string]any{}}).want(t, http.StatusUnauthorized, nil)

		other := h.userToken("2")
		h.do(req{method: "DELETE", path: "/api/v1/me/push-subscriptions", token: other, body: map[string]string{"endpoint": s1.Endpoint}}).
			want(t, http.StatusNotFound, nil)
		h.do(req{method: "DELETE", path: "/api/v1/me/push-subscriptions", token: tok, body: map[string]string{"endpoint": s1.Endpoint}}).
			want(t, http.StatusNoContent, nil)
		h.do(req{method: "DELETE", path: "/api/v1/me/push-subscriptions", token: tok, body: map[string]string{"endpoint": s1.Endpoint}}).
			want(t, http.StatusNotFound, nil)
		h.do(req{method: "DELETE", path: "/api/v1/me/push-subscriptions", token: tok, body: map[string]string{}}).
			wantError(t, http.StatusUnprocessableEntity, "invalid_field", "endpoint")
		subs, _ = h.svc.PushSubscriptions(t.Context(), nil)
		if len(subs) != 1 || subs[0].Endpoint != s2.Endpoint {
			t.Errorf("left %+v, want the second browser only", subs)
		}
	})
}

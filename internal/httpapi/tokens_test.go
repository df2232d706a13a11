package httpapi

import (
	"net/http"
	"testing"
	"time"
)

func TestMintUserToken(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db string) {
		h := newHarness(t, testConfig(db), Options{})
		h.loadDirectory()
		type token struct {
			Token     string    `json:"token"`
			TokenType string    `json:"token_type"`
			UserID    string    `json:"user_id"`
			ExpiresAt time.Time `json:"expires_at"`
			ExpiresIn int64     `json:"expires_in"`
		}
		var tok token
		r := h.host("POST", "/api/v1/users/1/token", nil).want(t, http.StatusCreated, &tok)
		if tok.TokenType != "Bearer" || tok.UserID != "1" || tok.ExpiresIn < 3590 || tok.ExpiresIn > 3600 ||
			time.Until(tok.ExpiresAt) > time.Hour || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("token %+v, headers %v", tok, r.header)
		}
		var c countsJSON
		h.do(req{method: "GET", path: "/api/v1/me/counts", token: tok.Token}).want(t, http.StatusOK, &c)

		var short token
		h.host("POST", "/api/v1/users/2/token", map[string]any{"ttl_seconds": 120}).want(t, http.StatusCreated, &short)
		if short.ExpiresIn < 110 || short.ExpiresIn > 120 {
			t.Errorf("ttl 120s: %+v", short)
		}
		h.host("POST", "/api/v1/users/404/token", nil).wantError(t, http.StatusNotFound, codeNotFound, "")
		h.host("POST", "/api/v1/users/1/token", map[string]any{"ttl_seconds": 10}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "ttl_seconds")
		h.host("POST", "/api/v1/users/1/token", map[string]any{"ttl_seconds": 7 * 24 * 3600}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "ttl_seconds")
		h.host("POST", "/api/v1/users/1/token", map[string]any{"ttl_seconds": "1h"}).
			wantError(t, http.StatusUnprocessableEntity, codeInvalidField, "ttl_seconds")
	})
}

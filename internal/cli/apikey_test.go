package cli

import (
	"strings"
	"testing"
	"time"
)

func TestAPIKeyCommands(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		r := h.run("apikey", "create", "endi-prod")
		if r.code != 0 {
			t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
		}
		key := strings.TrimSpace(r.stdout)
		if !strings.HasPrefix(key, "ck_") || len(key) != 46 || !strings.Contains(r.stderr, "shown this once") {
			t.Errorf("create printed %q, stderr %q", r.stdout, r.stderr)
		}
		h.fails(1, []string{"apikey", "create", "endi-prod"}, `an active API key is named "endi-prod" already`)
		h.fails(1, []string{"apikey", "create", " "}, "name: must not be empty")

		list := h.ok("apikey", "list")
		if !strings.Contains(list, "endi-prod") || !strings.Contains(list, key[:9]+"…") || strings.Contains(list, key) {
			t.Errorf("list:\n%s", list)
		}
		var keys []struct {
			ID        int64      `json:"id"`
			Name      string     `json:"name"`
			RevokedAt *time.Time `json:"revoked_at"`
			Hash      string     `json:"hash"`
		}
		h.json(&keys, "apikey", "list")
		if len(keys) != 1 || keys[0].Name != "endi-prod" || keys[0].Hash != "" {
			t.Fatalf("list --json: %+v", keys)
		}
		if out := h.ok("apikey", "revoke", "endi-prod"); !strings.Contains(out, "revoked") {
			t.Errorf("revoke printed %q", out)
		}
		h.fails(1, []string{"apikey", "revoke", "endi-prod"}, "not found")
		h.json(&keys, "apikey", "list")
		if keys[0].RevokedAt == nil {
			t.Errorf("revoked key %+v", keys[0])
		}
	})
}

func TestTokenCommands(t *testing.T) {
	h := sqliteHarness(t)
	h.importDirectory()
	secret := strings.TrimSpace(h.ok("token", "secret"))
	if len(secret) != 64 {
		t.Errorf("secret %q", secret)
	}
	if again := strings.TrimSpace(h.ok("token", "secret")); again != secret {
		t.Errorf("secret changed between runs: %q then %q", secret, again)
	}
	tok := strings.TrimSpace(h.ok("token", "mint", "1", "--ttl", "10m"))
	if strings.Count(tok, ".") != 2 {
		t.Errorf("mint printed %q", tok)
	}
	var minted struct {
		UserID    string    `json:"user_id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	h.json(&minted, "token", "mint", "2")
	if minted.UserID != "2" || time.Until(minted.ExpiresAt) > time.Hour || time.Until(minted.ExpiresAt) < 59*time.Minute {
		t.Errorf("mint --json: %+v", minted)
	}
	h.fails(1, []string{"token", "mint", "404"}, `user "404"`, "not found")
	h.fails(1, []string{"token", "mint", "1", "--ttl", "48h"}, "ttl")
	if out := h.ok("token", "--help"); !strings.Contains(out, "PyJWT") {
		t.Errorf("token --help does not say how to mint in Python:\n%s", out)
	}
}

package cli

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestPushKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, h *harness) {
		first := h.run("push", "keys")
		if first.code != 0 {
			t.Fatalf("push keys: exit %d: %s", first.code, first.stderr)
		}
		key := strings.TrimSpace(first.stdout)
		if b, err := base64.RawURLEncoding.DecodeString(key); err != nil || len(b) != 65 || b[0] != 4 {
			t.Fatalf("push keys printed %q: want a P-256 point, base64url", key)
		}
		if again := h.run("push", "keys"); strings.TrimSpace(again.stdout) != key {
			t.Errorf("push keys again printed %q, want the stored %q", again.stdout, key)
		}
		h.env = append(h.env, "CLOCHE_PUSH__SUBJECT=ops@example.org")
		// A bad setting, as every bad setting: exit 1 naming it.
		h.fails(1, []string{"push", "keys"}, "CLOCHE_PUSH__SUBJECT", "push.subject", "must start with mailto: or https:")
	})
}

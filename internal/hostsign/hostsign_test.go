package hostsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	key := []byte("a secret of the host and of Cloche")
	at := time.Unix(1764769200, 0)
	body := []byte(`{"action":{"index":0}}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	SignRequest(req, key, at, body)

	// The scheme, computed independently.
	m := hmac.New(sha256.New, key)
	m.Write([]byte("1764769200." + string(body)))
	if want := "v1=" + hex.EncodeToString(m.Sum(nil)); req.Header.Get(SignatureHeader) != want {
		t.Fatalf("signature %q, want %q", req.Header.Get(SignatureHeader), want)
	}
	if got := req.Header.Get(TimestampHeader); got != "1764769200" {
		t.Fatalf("timestamp %q", got)
	}

	tests := []struct {
		name string
		key  []byte
		body []byte
		now  time.Time
		want error
	}{
		{"good", key, body, at.Add(time.Minute), nil},
		{"other key", []byte("another"), body, at, ErrSignature},
		{"other body", key, []byte(`{}`), at, ErrSignature},
		{"stale", key, body, at.Add(time.Hour), ErrStale},
		{"future", key, body, at.Add(-time.Hour), ErrStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.key, req.Header, tc.body, tc.now, 5*time.Minute); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
	if err := Verify(key, http.Header{}, body, at, time.Minute); !errors.Is(err, ErrMissing) {
		t.Fatalf("unsigned: %v", err)
	}
}

package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var (
	secret = []byte("0123456789abcdef0123456789abcdef")
	now    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func TestAPIKey(t *testing.T) {
	key, display, hash, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	if !IsAPIKey(key) || !strings.HasPrefix(key, display) || len(display) != 9 {
		t.Errorf("key %q, display %q", key, display)
	}
	if hash != HashAPIKey(key) || len(hash) != 64 || strings.Contains(hash, key) {
		t.Errorf("hash %q", hash)
	}
	other, _, otherHash, _ := NewAPIKey()
	if other == key || otherHash == hash {
		t.Error("two keys are equal")
	}
	for _, s := range []string{"", "ck_", "ck_short", "eyJhbGciOiJIUzI1NiJ9.e30.x", key + "x"} {
		if IsAPIKey(s) {
			t.Errorf("IsAPIKey(%q) = true", s)
		}
	}
}

func TestUserTokenRoundTrip(t *testing.T) {
	tok, exp, err := MintUserToken(secret, "42", now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(time.Hour)) {
		t.Errorf("exp %v", exp)
	}
	c, err := VerifyUserToken(secret, tok, now.Add(59*time.Minute), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c.UserID != "42" || !c.ExpiresAt.Equal(exp) || !c.IssuedAt.Equal(now) {
		t.Errorf("claims %+v", c)
	}
}

// sign builds a token as a host would, with any claims and algorithm.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUserTokenRefused(t *testing.T) {
	exp := now.Add(time.Hour).Unix()
	cases := []struct {
		name    string
		token   string
		problem string
	}{
		{"garbage", "not.a.token", "malformed"},
		{"other secret", sign(t, jwt.SigningMethodHS256, []byte("another secret, 32 bytes long!!!"), jwt.MapClaims{"sub": "1", "exp": exp}), "bad signature"},
		{"HS512", sign(t, jwt.SigningMethodHS512, secret, jwt.MapClaims{"sub": "1", "exp": exp}), "bad signature"},
		{"none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "1", "exp": exp}), "bad signature"},
		{"no exp", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "1"}), "exp is missing"},
		{"expired", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "1", "exp": now.Add(-time.Minute).Unix()}), "expired"},
		{"no sub", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"exp": exp}), "sub (the user id) is missing"},
		{"numeric sub", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": 1, "exp": exp}), "malformed"},
		{"too long", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "1", "exp": now.Add(48 * time.Hour).Unix()}), "more than 24h0m0s away"},
		{"iat in the future", sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "1", "exp": exp, "iat": now.Add(time.Hour).Unix()}), "iat is in the future"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyUserToken(secret, tc.token, now, 24*time.Hour)
			if !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("err = %v, want ErrUnauthenticated saying %q", err, tc.problem)
			}
		})
	}
}

func TestUserTokenLeeway(t *testing.T) {
	tok := sign(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "7", "exp": now.Add(-10 * time.Second).Unix(),
		"iat": now.Add(10 * time.Second).Unix()})
	if _, err := VerifyUserToken(secret, tok, now, time.Hour); err != nil {
		t.Errorf("10s of clock difference refused: %v", err)
	}
}

package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cloche/cloche/internal/store"
)

// ErrUnauthenticated: a credential is missing, malformed, expired, revoked
// or unknown. Errors of this kind say which, and are safe to show.
var ErrUnauthenticated = errors.New("unauthenticated")

// APIKeyPrefix starts every API key, so that keys are recognisable (in a
// leaked file, by a secret scanner) and told apart from user tokens.
const APIKeyPrefix = "ck_"

// apiKeyBytes is the randomness of a key: 256 bits.
const apiKeyBytes = 32

// displayLen is how much of a key is kept in clear, to recognise it.
const displayLen = len(APIKeyPrefix) + 6

// NewAPIKey returns a new random API key, its first characters (shown in
// lists, to recognise it) and its hash (the only thing stored).
func NewAPIKey() (key, display, hash string, err error) {
	b := make([]byte, apiKeyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", "", fmt.Errorf("auth: new api key: %w", err)
	}
	key = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, key[:displayLen], HashAPIKey(key), nil
}

// HashAPIKey is the stored form of a key: hex SHA-256. A key carries 256
// bits of randomness, so a plain hash cannot be reversed by search.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// IsAPIKey reports whether s has the form of an API key.
func IsAPIKey(s string) bool {
	return strings.HasPrefix(s, APIKeyPrefix) && len(s) == len(APIKeyPrefix)+base64.RawURLEncoding.EncodedLen(apiKeyBytes)
}

// NewSecret returns a random token secret: 64 hexadecimal characters, used
// as they are (their bytes are the HMAC key).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: new secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Leeway is the clock difference tolerated between the host that mints a
// token and Cloche.
const Leeway = 30 * time.Second

// Claims are what a user token says.
type Claims struct {
	UserID    string    // sub
	IssuedAt  time.Time // iat; zero when absent
	ExpiresAt time.Time // exp
}

// MintUserToken signs a token for userID, valid for ttl from now.
func MintUserToken(secret []byte, userID string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	if userID == "" {
		return "", time.Time{}, errors.New("auth: mint: empty user id")
	}
	exp := now.Add(ttl).Truncate(time.Second)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   userID,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
	})
	s, err := tok.SignedString(secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: mint: %w", err)
	}
	return s, exp.UTC(), nil
}

// VerifyUserToken checks a user token: HS256 signed with secret, a
// non-empty sub, an exp in the future but no further than maxTTL, an iat
// (when present) not in the future. Its errors match ErrUnauthenticated.
func VerifyUserToken(secret []byte, token string, now time.Time, maxTTL time.Duration) (*Claims, error) {
	var rc jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	if err != nil {
		return nil, fmt.Errorf("%w: user token: %s", ErrUnauthenticated, tokenProblem(err))
	}
	if rc.Subject == "" {
		return nil, fmt.Errorf("%w: user token: sub (the user id) is missing", ErrUnauthenticated)
	}
	if err := store.CheckID("sub", rc.Subject); err != nil {
		return nil, fmt.Errorf("%w: user token: %v: no user has such an id", ErrUnauthenticated, err)
	}
	exp := rc.ExpiresAt.Time
	if exp.Sub(now) > maxTTL+Leeway {
		return nil, fmt.Errorf("%w: user token: exp is more than %s away (auth.token_max_ttl)", ErrUnauthenticated, maxTTL)
	}
	c := &Claims{UserID: rc.Subject, ExpiresAt: exp.UTC()}
	if rc.IssuedAt != nil {
		c.IssuedAt = rc.IssuedAt.Time.UTC()
	}
	return c, nil
}

// tokenProblem says in a few words what is wrong with a token, without
// echoing it.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "not signed with HS256"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is missing"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "iat is in the future"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "invalid claims"
	}
	return "invalid"
}

package push

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// Keys are the application server's VAPID key pair (P-256), as the Push
// API and webpush-go take them: base64url without padding, the private
// key its 32-byte scalar, the public key its 65-byte uncompressed point.
type Keys struct {
	Private string
	Public  string
}

// GenerateKeys returns a fresh key pair.
func GenerateKeys() (*Keys, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("push: generate VAPID keys: %w", err)
	}
	return keysOf(k), nil
}

// ParseKeys returns the key pair of a stored private key.
func ParseKeys(private string) (*Keys, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(private, "="))
	if err != nil {
		return nil, fmt.Errorf("push: VAPID private key: %w", err)
	}
	k, err := ecdh.P256().NewPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("push: VAPID private key: %w", err)
	}
	return keysOf(k), nil
}

func keysOf(k *ecdh.PrivateKey) *Keys {
	return &Keys{
		Private: base64.RawURLEncoding.EncodeToString(k.Bytes()),
		Public:  base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
	}
}

// CheckSubject returns an error unless s is a subject push services
// accept in a VAPID token: a mailto: address or an https: URL.
func CheckSubject(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is required to send browser push (a mailto: address or an https: URL push services can reach you at)")
	case strings.HasPrefix(s, "mailto:"):
		if !strings.Contains(s, "@") || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%q is not a mailto: address", s)
		}
	case strings.HasPrefix(s, "https:"):
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return fmt.Errorf("%q is not an https: URL", s)
		}
	default:
		return fmt.Errorf("%q must start with mailto: or https:", s)
	}
	return nil
}

package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// secretPrefix begins every Standard Webhooks secret.
const secretPrefix = "whsec_"

// NewSecret returns a fresh secret: "whsec_" and the base64 of 32 random
// bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey is the HMAC key of a secret: the base64 after "whsec_".
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) < 16 {
		return nil, store.Invalid("secret", "must be \"whsec_\" followed by the base64 of 16 to 64 random bytes")
	}
	if len(key) > 64 {
		return nil, store.Invalid("secret", "must be \"whsec_\" followed by the base64 of 16 to 64 random bytes")
	}
	return key, nil
}

// signer signs with one outlet's key.
type signer struct{ key []byte }

// sign is the webhook-signature of a message: "v1," and the base64 of
// HMAC-SHA256(key, id "." timestamp "." body).
func (s signer) sign(id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, timestamp, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

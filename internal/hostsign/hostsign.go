package hostsign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	TimestampHeader = "Cloche-Timestamp"
	SignatureHeader = "Cloche-Signature"
)

// prefix names the scheme version in SignatureHeader.
const prefix = "v1="

// Sign returns the SignatureHeader value of body sent at t.
func Sign(key []byte, t time.Time, body []byte) string {
	return prefix + hex.EncodeToString(mac(key, strconv.FormatInt(t.Unix(), 10), body))
}

func mac(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SignRequest sets the headers of req, whose body is body, sent at t.
func SignRequest(req *http.Request, key []byte, t time.Time, body []byte) {
	req.Header.Set(TimestampHeader, strconv.FormatInt(t.Unix(), 10))
	req.Header.Set(SignatureHeader, Sign(key, t, body))
}

// Errors of Verify.
var (
	ErrMissing   = errors.New("hostsign: the request is not signed")
	ErrSignature = errors.New("hostsign: the signature does not match")
	ErrStale     = errors.New("hostsign: the timestamp is too far from now")
)

// Verify checks the headers h of a request whose body is body: the
// signature matches and the timestamp is within tolerance of now.
func Verify(key []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, sig := h.Get(TimestampHeader), h.Get(SignatureHeader)
	if ts == "" || sig == "" {
		return ErrMissing
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrSignature
	}
	got, err := hex.DecodeString(strings.TrimPrefix(sig, prefix))
	if err != nil || !strings.HasPrefix(sig, prefix) || !hmac.Equal(got, mac(key, ts, body)) {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}

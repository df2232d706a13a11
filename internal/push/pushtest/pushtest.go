package pushtest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Subscription is one browser subscribed to the server: what
// PushSubscription.toJSON() would give, and its private key.
type Subscription struct {
	ID       string
	Endpoint string
	P256dh   string // base64url, as browsers give it
	Auth     string
	key      *ecdh.PrivateKey
	auth     []byte
}

// Push is one push the server received, decrypted and checked.
type Push struct {
	Subscription string // its ID
	Payload      []byte
	TTL          string
	Urgency      string
	Topic        string
	// VAPID token (checked: Err is set when something is wrong).
	Audience string
	Subject  string
	Expires  time.Time
	Key      string // the k= of the Authorization header
	// Code is the status the server answered.
	Code int
	// Err says what was wrong with the push (decryption, token, headers).
	Err error
}

// Answer is how the server answers a push.
type Answer struct {
	Code   int
	Header http.Header
}

// Server is the push service.
type Server struct {
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	subs     map[string]*Subscription
	n        int
	n0       int // pushes only counted
	pushes   []Push
	attempts map[string]int
	answer   func(sub string, attempt int) Answer
	notify   chan struct{}
	// Check decrypts and checks each push; a benchmark turns it off.
	check bool
	// PublicKey and Subject, when set, are what VAPID tokens must carry.
	publicKey, subject string
}

// New starts a server that decrypts and checks each push against the
// VAPID public key and subject given (either may be empty: not checked).
func New(t testing.TB, publicKey, subject string) *Server {
	s := &Server{subs: map[string]*Subscription{}, attempts: map[string]int{}, check: true,
		publicKey: publicKey, subject: subject, notify: make(chan struct{}, 1)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// NewCounting starts a server that only counts pushes (answering 201),
// for benchmarks.
func NewCounting(t testing.TB) *Server {
	s := New(t, "", "")
	s.check = false
	return s
}

// Client is an HTTP client for the server's address.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Subscribe creates a browser's subscription.
func (s *Server) Subscribe() *Subscription {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := fmt.Sprintf("s%d", s.n)
	sub := &Subscription{ID: id, Endpoint: s.URL + "/push/" + id, key: k, auth: auth,
		P256dh: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		Auth:   base64.RawURLEncoding.EncodeToString(auth)}
	s.subs[id] = sub
	return sub
}

// AnswerWith makes f choose the answer to each push: sub is the
// subscription's ID, attempt counts its pushes from 1.
func (s *Server) AnswerWith(f func(sub string, attempt int) Answer) {
	s.mu.Lock()
	s.answer = f
	s.mu.Unlock()
}

// Pushes returns what was received so far.
func (s *Server) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Push(nil), s.pushes...)
}

// Count is how many pushes were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pushes) + s.n0
}

// Wait returns once cond holds of the pushes received, or fails t after
// a minute.
func (s *Server) Wait(t testing.TB, what string, cond func([]Push) bool) []Push {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		if p := s.Pushes(); cond(p) {
			return p
		}
		select {
		case <-s.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("push service: still waiting for %s; received %d pushes", what, len(s.Pushes()))
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || !ok || err != nil {
		http.Error(w, "not a push", http.StatusBadRequest)
		return
	}
	if !s.check {
		s.mu.Lock()
		s.n0++
		s.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		return
	}
	s.mu.Lock()
	sub := s.subs[id]
	s.attempts[id]++
	attempt, answer := s.attempts[id], s.answer
	s.mu.Unlock()
	p := Push{Subscription: id, TTL: r.Header.Get("TTL"), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")}
	if sub == nil {
		p.Err = fmt.Errorf("no subscription %q", id)
	} else {
		p.Err = s.open(sub, r, body, &p)
	}
	a := Answer{Code: http.StatusCreated}
	if answer != nil {
		a = answer(id, attempt)
	}
	p.Code = a.Code
	s.mu.Lock()
	s.pushes = append(s.pushes, p)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.Code)
}

// open checks the headers and the VAPID token of a push and decrypts it.
func (s *Server) open(sub *Subscription, r *http.Request, body []byte, p *Push) error {
	var errs []error
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		errs = append(errs, fmt.Errorf("Content-Encoding %q, want aes128gcm", ce))
	}
	if p.TTL == "" {
		errs = append(errs, errors.New("no TTL header (RFC 8030 requires one)"))
	}
	if err := s.checkVAPID(r.Header.Get("Authorization"), sub, p); err != nil {
		errs = append(errs, err)
	}
	payload, err := Decrypt(sub, body)
	if err != nil {
		errs = append(errs, err)
	}
	p.Payload = payload
	return errors.Join(errs...)
}

// checkVAPID checks "vapid t=JWT, k=KEY" (RFC 8292, section 3).
func (s *Server) checkVAPID(h string, sub *Subscription, p *Push) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("Authorization %q is not a vapid one", h)
	}
	var token string
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			p.Key = v
		}
	}
	if s.publicKey != "" && p.Key != s.publicKey {
		return fmt.Errorf("VAPID key %q, want the server's %q", p.Key, s.publicKey)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("VAPID token %q is not a JWT", token)
	}
	var header struct{ Alg, Typ string }
	if err := decodeJSON(parts[0], &header); err != nil || header.Alg != "ES256" {
		return fmt.Errorf("VAPID token header %q: want alg ES256 (%v)", parts[0], err)
	}
	var claims struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}
	if err := decodeJSON(parts[1], &claims); err != nil {
		return fmt.Errorf("VAPID token claims: %w", err)
	}
	p.Audience, p.Subject, p.Expires = claims.Aud, claims.Sub, time.Unix(claims.Exp, 0)
	pub, err := base64.RawURLEncoding.DecodeString(p.Key)
	if err != nil || len(pub) != 65 {
		return fmt.Errorf("VAPID key %q is not a P-256 point", p.Key)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("VAPID signature is not 64 bytes")
	}
	x, y := new(big.Int).SetBytes(pub[1:33]), new(big.Int).SetBytes(pub[33:])
	key := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("VAPID signature does not verify with the key given")
	}
	var errs []error
	if want := s.URL; claims.Aud != want {
		errs = append(errs, fmt.Errorf("VAPID aud %q, want the push service's origin %q", claims.Aud, want))
	}
	if d := time.Until(p.Expires); d <= 0 || d > 24*time.Hour {
		errs = append(errs, fmt.Errorf("VAPID exp %v is not within the next 24 hours", p.Expires))
	}
	if s.subject != "" && claims.Sub != s.subject {
		errs = append(errs, fmt.Errorf("VAPID sub %q, want %q", claims.Sub, s.subject))
	}
	return errors.Join(errs...)
}

func decodeJSON(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Decrypt opens an aes128gcm message for sub (RFC 8291, section 3.4;
// RFC 8188, section 2), one record.
func Decrypt(sub *Subscription, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("aes128gcm: shorter than its header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("aes128gcm: keyid of %d bytes, want the sender's 65-byte public key", idlen)
	}
	asPublic, ciphertext := body[21:21+idlen], body[21+idlen:]
	if rs < 18 || len(ciphertext) > int(rs) {
		return nil, fmt.Errorf("aes128gcm: %d bytes of ciphertext in records of %d: want one record", len(ciphertext), rs)
	}
	peer, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, fmt.Errorf("aes128gcm: sender key: %w", err)
	}
	secret, err := sub.key.ECDH(peer)
	if err != nil {
		return nil, err
	}
	// HKDF-Extract and one block of HKDF-Expand, by hand.
	hm := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	prkKey := hm(sub.auth, secret)
	keyInfo := append(append([]byte("WebPush: info\x00"), sub.key.PublicKey().Bytes()...), asPublic...)
	ikm := hm(prkKey, keyInfo, []byte{1})
	prk := hm(salt, ikm)
	cek := hm(prk, []byte("Content-Encoding: aes128gcm\x00"), []byte{1})[:16]
	nonce := hm(prk, []byte("Content-Encoding: nonce\x00"), []byte{1})[:12]
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, fmt.Errorf("aes128gcm: does not decrypt with the subscription's keys: %w", err)
	}
	// The last record ends with the delimiter 2, then zero padding.
	end := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if end < 0 || plain[end] != 2 {
		return nil, errors.New("aes128gcm: no last-record delimiter")
	}
	return plain[:end], nil
}

package smtptest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage is the SMTP command being answered.
type Stage string

// The stages a Handler is asked about.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
	// StageBody is asked once DATA was accepted, before the content is
	// read: Drop there reads the first bytes of the content, then closes
	// the connection (a connection lost in the middle of DATA).
	StageBody Stage = "BODY"
)

// Handler decides the answer to a command: nil accepts it, an
// *smtp.SMTPError (see Reply) is answered, Drop closes the connection
// without an answer, AcceptDrop (at StageData) keeps the message and then
// closes the connection without answering. A Handler that blocks is a
// server that does not answer. rcpt is the recipient (the first one, at
// DATA); attempt counts the RCPT commands for it so far, this one
// included.
type Handler func(stage Stage, rcpt string, attempt int) error

var (
	// Drop, returned by a Handler, closes the connection without
	// answering: at StageData, after the whole content was read, the
	// message is not kept.
	Drop = errors.New("smtptest: drop the connection")
	// AcceptDrop, returned at StageData, keeps the message, then closes
	// the connection before answering: the client cannot know the message
	// was accepted.
	AcceptDrop = errors.New("smtptest: keep the message, then drop the connection")
)

// Reply is an SMTP answer: Reply(451, "4.3.0", "Try again later").
func Reply(code int, enhanced, text string) *smtp.SMTPError {
	var ec smtp.EnhancedCode
	if _, err := fmt.Sscanf(enhanced, "%d.%d.%d", &ec[0], &ec[1], &ec[2]); err != nil {
		ec = smtp.EnhancedCodeNotSet
	}
	return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: text}
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	Conn int // which connection (1 for the first) brought it
}

// Options change the server.
type Options struct {
	// TLS offers STARTTLS with this configuration (see NewTLS).
	TLS *tls.Config
	// ImplicitTLS listens with TLS from the first byte (needs TLS).
	ImplicitTLS bool
	// Username and Password, when set, make AUTH PLAIN required.
	Username, Password string
	// Discard counts messages without keeping them (benchmarks).
	Discard bool
}

// Server is a running SMTP server.
type Server struct {
	Host string
	Port int

	opts Options
	addr string

	mu       sync.Mutex
	srv      *smtp.Server
	handler  Handler
	messages []Message
	count    int
	attempts map[string]int
	conns    int
	changed  chan struct{} // closed and replaced at every message
}

// Start starts a server on a free port of 127.0.0.1, stopped when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, Host: "127.0.0.1", attempts: map[string]int{}, changed: make(chan struct{})}
	if err := s.listen("127.0.0.1:0"); err != nil {
		t.Fatalf("smtptest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) error {
	srv := smtp.NewServer(&backend{s: s})
	srv.Domain = "smtptest.local"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 100
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLSConfig = s.opts.TLS
	var (
		ln  net.Listener
		err error
	)
	if s.opts.ImplicitTLS {
		ln, err = tls.Listen("tcp", addr, s.opts.TLS)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.srv, s.addr = srv, ln.Addr().String()
	s.Port = ln.Addr().(*net.TCPAddr).Port
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// Stop closes the listener and every connection: the server is down.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Restart listens again on the same port after Stop.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	var err error
	for range 50 { // the port may linger a moment after Stop
		if err = s.listen(s.addr); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("smtptest: restart on %s: %v", s.addr, err)
}

// Handle sets how the server answers (nil: accept everything).
func (s *Server) Handle(h Handler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count is how many messages were accepted.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Attempts is how many RCPT commands named addr.
func (s *Server) Attempts(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[addr]
}

// Connections is how many connections were opened.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Wait waits until at least n messages were accepted, or fails t after
// within; it returns them.
func (s *Server) Wait(t testing.TB, n int, within time.Duration) []Message {
	t.Helper()
	if !s.WaitCount(n, within) {
		t.Fatalf("smtptest: %d messages received, want %d within %s", s.Count(), n, within)
	}
	return s.Messages()
}

// WaitCount waits until at least n messages were accepted and reports
// whether they were within the time given.
func (s *Server) WaitCount(n int, within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		count, changed := s.count, s.changed
		s.mu.Unlock()
		if count >= n {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

func (s *Server) answer(stage Stage, rcpt string, attempt int) error {
	s.mu.Lock()
	h := s.handler
	s.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(stage, rcpt, attempt)
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.conns++
	n := b.s.conns
	b.s.mu.Unlock()
	return &session{s: b.s, c: c, conn: n}, nil
}

type session struct {
	s      *Server
	c      *smtp.Conn
	conn   int
	authed bool
	from   string
	to     []string
}

func (ss *session) check(stage Stage, rcpt string, attempt int) error {
	err := ss.s.answer(stage, rcpt, attempt)
	if errors.Is(err, Drop) {
		_ = ss.c.Conn().Close()
	}
	return err
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return Reply(535, "5.7.8", "Authentication credentials invalid")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if err := ss.check(StageMail, "", 0); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.attempts[to]++
	n := ss.s.attempts[to]
	ss.s.mu.Unlock()
	if err := ss.check(StageRcpt, to, n); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	rcpt := ""
	if len(ss.to) > 0 {
		rcpt = ss.to[0]
	}
	ss.s.mu.Lock()
	attempt := ss.s.attempts[rcpt]
	ss.s.mu.Unlock()
	if err := ss.s.answer(StageBody, rcpt, attempt); err != nil {
		if errors.Is(err, Drop) {
			_, _ = io.ReadFull(r, make([]byte, 64))
			_ = ss.c.Conn().Close()
		}
		return err
	}
	var data []byte
	var err error
	if ss.s.opts.Discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	answer := ss.s.answer(StageData, rcpt, attempt)
	if answer != nil && !errors.Is(answer, AcceptDrop) {
		if errors.Is(answer, Drop) {
			_ = ss.c.Conn().Close()
		}
		return answer
	}
	ss.s.mu.Lock()
	ss.s.count++
	if !ss.s.opts.Discard {
		ss.s.messages = append(ss.s.messages, Message{From: ss.from, To: ss.to, Data: data, Conn: ss.conn})
	}
	close(ss.s.changed)
	ss.s.changed = make(chan struct{})
	ss.s.mu.Unlock()
	if answer != nil {
		_ = ss.c.Conn().Close()
		return answer
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// NewTLS returns a server TLS configuration with a new self-signed
// certificate for 127.0.0.1 and localhost, and the pool a client trusts it
// with.
func NewTLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

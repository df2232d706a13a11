package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPConfig is how to reach the mail server.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 465 for tls, 587 for starttls, 25 for none
	Username string
	Password string
	TLS      string // starttls, tls or none
	HELO     string // empty: the machine's host name
	Timeout  time.Duration
	// Connections is how many connections are kept and used at once.
	Connections int
	// TLSConfig, when set, replaces the default TLS settings (its
	// ServerName defaults to Host): e.g. a private CA.
	TLSConfig *tls.Config
}

// result is what became of one message.
type result struct {
	sent     bool
	temp     bool // not sent, worth trying again later
	notTried bool // not sent: the job stops, or the claim could lapse
	down     bool // the server could not be reached
	code     int  // SMTP reply code, 0 when there was none
	message  string
}

// sender sends messages over a pool of reused SMTP connections. Each
// connection is used by one goroutine at a time; a connection the server
// dropped is dialled again.
type sender struct {
	client *mail.Client
	slots  chan *conn
	logger *slog.Logger
	idle   time.Duration

	mu        sync.Mutex
	active    int
	idleTimer *time.Timer
}

type conn struct {
	c *smtp.Client
}

func newSender(cfg SMTPConfig, idle time.Duration, logger *slog.Logger) (*sender, error) {
	port := cfg.Port
	if port == 0 {
		switch cfg.TLS {
		case "tls":
			port = 465
		case "none":
			port = 25
		default:
			port = 587
		}
	}
	// No NOOP before each message and no RSET after each accepted one:
	// two round trips of six. A connection the server closed meanwhile
	// fails at MAIL FROM, before anything is sent, and is dialled again.
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(cfg.Timeout), mail.WithoutNoop(), mail.WithoutRset()}
	switch cfg.TLS {
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if cfg.TLSConfig != nil {
		tc := cfg.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = cfg.Host
		}
		opts = append(opts, mail.WithTLSConfig(tc))
	}
	if cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(cfg.Username), mail.WithPassword(cfg.Password))
	}
	client, err := mail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("email: smtp client: %w", err)
	}
	s := &sender{client: client, slots: make(chan *conn, max(cfg.Connections, 1)), logger: logger, idle: idle}
	for range cap(s.slots) {
		s.slots <- &conn{}
	}
	return s, nil
}

// batch is the state shared by the goroutines sending one batch: once the
// server cannot be reached, the rest of the batch fails the same way
// without dialling again.
type batch struct {
	down atomic.Pointer[result]
}

// sendAll sends n messages over up to cap(slots) connections at once and
// returns one result per message, in order; build makes message i, or
// says why it has none. A message is not tried once mayStart says no.
// Once the server cannot be reached, the rest fail the same way without
// dialling again (their results say down).
func (s *sender) sendAll(ctx context.Context, n int, mayStart func() bool, build func(i int) (*mail.Msg, *result)) []result {
	out := make([]result, n)
	var (
		b    batch
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(cap(s.slots), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sl *conn
			select {
			case sl = <-s.slots:
				defer func() { s.slots <- sl }()
			case <-ctx.Done():
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if sl == nil || ctx.Err() != nil || !mayStart() {
					out[i] = result{notTried: true}
					continue
				}
				msg, failed := build(i)
				if failed != nil {
					out[i] = *failed
					continue
				}
				out[i] = s.send(ctx, sl, msg, &b)
			}
		}()
	}
	wg.Wait()
	return out
}

// send sends one message on sl, dialling when sl has no live connection.
// A connection found dead before anything was sent (the server dropped
// it, or answered 421) is dialled again and the message sent at once.
func (s *sender) send(ctx context.Context, sl *conn, msg *mail.Msg, b *batch) result {
	for try := 0; ; try++ {
		if down := b.down.Load(); down != nil {
			return *down
		}
		if sl.c == nil || !sl.c.HasConnection() {
			c, err := s.client.DialToSMTPClientWithContext(ctx)
			if err != nil {
				r := dialResult(err)
				b.down.CompareAndSwap(nil, &r)
				s.logger.WarnContext(ctx, "email: cannot reach the mail server", "err", err)
				return r
			}
			sl.c = c
		}
		err := s.client.SendWithSMTPClient(sl.c, msg)
		if err == nil {
			return result{sent: true, code: 250, message: msg.ServerResponse()}
		}
		r, connLost, again := sendResult(err, msg)
		if connLost {
			s.discard(sl)
		}
		if !again || try > 0 {
			return r
		}
	}
}

func (s *sender) discard(sl *conn) {
	if sl.c != nil {
		_ = sl.c.Close()
		sl.c = nil
	}
}

// sendOne sends msg on a connection of its own, closed afterwards, and
// returns the server's answer: what `cloche email test` shows.
func (s *sender) sendOne(ctx context.Context, msg *mail.Msg) (string, error) {
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		r := dialResult(err)
		return "", &SMTPError{Code: r.code, Message: r.message, Temporary: true}
	}
	defer func() { _ = s.client.CloseWithSMTPClient(c) }()
	if err := s.client.SendWithSMTPClient(c, msg); err != nil {
		r, _, _ := sendResult(err, msg)
		if r.sent {
			return msg.ServerResponse(), nil
		}
		return "", &SMTPError{Code: r.code, Message: r.message, Temporary: r.temp}
	}
	return msg.ServerResponse(), nil
}

// SMTPError is a message the mail server refused, or could not be sent
// for want of a server.
type SMTPError struct {
	Code      int // 0 when the server gave no reply code
	Message   string
	Temporary bool
}

func (e *SMTPError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("smtp: %d %s", e.Code, e.Message)
	}
	return "smtp: " + e.Message
}

// begin and end bracket the use of the connections by one job; when no
// job has used them for the idle time, they are closed.
func (s *sender) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active++
	if s.idleTimer != nil {
		s.idleTimer.Stop()
	}
}

func (s *sender) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 {
		s.idleTimer = time.AfterFunc(s.idle, s.closeIdle)
	}
}

func (s *sender) closeIdle() {
	s.mu.Lock()
	busy := s.active > 0
	s.mu.Unlock()
	if !busy {
		s.closeAll()
	}
}

// closeAll says QUIT on every connection not in use.
func (s *sender) closeAll() {
	for range cap(s.slots) {
		select {
		case sl := <-s.slots:
			if sl.c != nil {
				_ = s.client.CloseWithSMTPClient(sl.c)
				s.discard(sl)
			}
			defer func() { s.slots <- sl }()
		default:
		}
	}
}

// replyPattern finds an SMTP reply ("451 4.3.0 Try later") in an error.
var replyPattern = regexp.MustCompile(`\b([245]\d\d)[ -]([^\n]*)`)

// reply returns the SMTP code and text that err carries, if any.
func reply(err error) (int, string) {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code, tp.Msg
	}
	text := err.Error()
	if m := replyPattern.FindStringSubmatch(text); m != nil {
		code, _ := strconv.Atoi(m[1])
		msg := m[2]
		// textproto.Error quotes its text (Go 1.26: `451 "4.3.0 Busy"`).
		if q, err := strconv.QuotedPrefix(msg); err == nil {
			if u, err := strconv.Unquote(q); err == nil {
				return code, strings.TrimSpace(u)
			}
		}
		if i := strings.Index(msg, ", affected "); i >= 0 {
			msg = msg[:i]
		}
		return code, strings.TrimSpace(msg)
	}
	return 0, text
}

// dialResult: a server that cannot be reached, or refuses the session,
// TLS or authentication, is the configuration's or the network's problem,
// never the message's: always temporary.
func dialResult(err error) result {
	code, msg := reply(err)
	if code == 0 {
		msg = "connect: " + err.Error()
	}
	return result{temp: true, down: true, code: code, message: msg}
}

// sendResult classifies a failed send: 4xx temporary, 5xx permanent, no
// code (the connection failed) temporary. connLost says the connection
// must not be used again; again says the message may be sent at once on a
// new connection, because the failure came before its content was
// transmitted.
func sendResult(err error, msg *mail.Msg) (r result, connLost, again bool) {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return result{temp: true, message: err.Error()}, true, false
	}
	if msg.IsDelivered() {
		// Accepted; only the RSET afterwards failed.
		return result{sent: true, code: 250, message: msg.ServerResponse()}, true, false
	}
	code, text := reply(se)
	if se.ErrorCode() != 0 {
		code = se.ErrorCode()
	}
	r = result{code: code, message: text}
	switch se.Reason {
	case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
		r.code, r.message = 0, se.Error()
		return r, false, false
	case mail.ErrConnCheck:
		r.temp, r.code, r.message = true, 0, "connection lost: "+se.Error()
		return r, true, true
	}
	before := se.Reason == mail.ErrSMTPMailFrom || se.Reason == mail.ErrSMTPRcptTo || se.Reason == mail.ErrSMTPData
	switch {
	case code == 0:
		// No reply: the connection broke. Before DATA nothing was sent;
		// during it, the server may or may not have the message.
		r.temp, r.message = true, "connection lost: "+se.Error()
		return r, true, before
	case code == 421:
		r.temp = true
		return r, true, before
	case code >= 400 && code < 500:
		r.temp = true
	}
	return r, false, false
}

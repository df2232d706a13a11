package config

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// SMTP is the mail server that e-mail deliveries go through. With no Host,
// nothing is sent: deliveries stay queued until a host is configured.
type SMTP struct {
	Host string `koanf:"host"`
	// Port is 0 for the usual port of the TLS mode: 465 for tls, 587 for
	// starttls, 25 for none.
	Port     int    `koanf:"port"`
	Username string `koanf:"username"`
	Password string `koanf:"password"`
	// TLS is starttls (upgrade a plain connection, required), tls
	// (implicit TLS from the first byte) or none.
	TLS string `koanf:"tls"`
	// From is the sender, "Name <address>" or an address. Required with Host.
	From    string `koanf:"from"`
	ReplyTo string `koanf:"reply_to"`
	// HELO is the name given in EHLO; empty: the machine's host name.
	HELO string `koanf:"helo"`
	// Timeout bounds connecting and each SMTP command.
	Timeout Duration `koanf:"timeout"`
	// Connections is how many connections one process keeps open and sends
	// over at once.
	Connections int `koanf:"connections"`
}

// Email configures the content and the retries of e-mails.
type Email struct {
	// TemplatesDir holds per-type templates that replace the default
	// layout (see the README); empty: the default layout only.
	TemplatesDir string `koanf:"templates_dir"`
	// DefaultLocale (fr or en) is used for users without a known locale
	// and for a company's own address.
	DefaultLocale string `koanf:"default_locale"`
	// MaxAttachmentSize bounds the attachments of one notification, all
	// together ("10MiB", "512KB" or bytes).
	MaxAttachmentSize ByteSize `koanf:"max_attachment_size"`
	// MaxAttempts is how many times one e-mail is tried before it fails.
	MaxAttempts int `koanf:"max_attempts"`
	// RetryBase is the wait before the first retry; the waits then grow
	// exponentially so that all MaxAttempts span about RetryWindow.
	RetryBase   Duration `koanf:"retry_base"`
	RetryWindow Duration `koanf:"retry_window"`
	// BatchSize is how many deliveries are claimed and recorded per
	// database statement.
	BatchSize int `koanf:"batch_size"`
	// Lease is how long a claim on deliveries holds without being renewed:
	// a process renews its claims every quarter of it while it sends, and
	// the deliveries of a process that died are sent by another (or by it,
	// restarted) about a lease after its death.
	Lease Duration `koanf:"lease"`
}

func defaultSMTP() SMTP {
	return SMTP{TLS: "starttls", Timeout: Duration(30 * time.Second), Connections: 4}
}

func defaultEmail() Email {
	return Email{
		DefaultLocale:     "fr",
		MaxAttachmentSize: 10 << 20,
		MaxAttempts:       12,
		RetryBase:         Duration(30 * time.Second),
		RetryWindow:       Duration(24 * time.Hour),
		BatchSize:         500,
		Lease:             Duration(10 * time.Second),
	}
}

// Configured reports whether a mail server is set.
func (s SMTP) Configured() bool { return strings.TrimSpace(s.Host) != "" }

// PortOrDefault is Port, or the usual port of the TLS mode.
func (s SMTP) PortOrDefault() int {
	if s.Port != 0 {
		return s.Port
	}
	switch s.TLS {
	case "tls":
		return 465
	case "none":
		return 25
	}
	return 587
}

func (s SMTP) validate() []error {
	var errs []error
	switch s.TLS {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, store.Invalid("smtp.tls", "must be starttls, tls or none, not %q", s.TLS))
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, store.Invalid("smtp.port", "must be between 1 and 65535 (0: the usual port of smtp.tls)"))
	}
	if s.Timeout <= 0 {
		errs = append(errs, store.Invalid("smtp.timeout", "must be positive"))
	}
	if s.Connections < 1 || s.Connections > 100 {
		errs = append(errs, store.Invalid("smtp.connections", "must be between 1 and 100"))
	}
	if strings.ContainsAny(s.Host, " /") {
		errs = append(errs, store.Invalid("smtp.host", "%q is not a host name", s.Host))
	}
	if strings.ContainsAny(s.HELO, " \t\r\n") {
		errs = append(errs, store.Invalid("smtp.helo", "%q must be one word, a host name", s.HELO))
	}
	if s.Password != "" && s.Username == "" {
		errs = append(errs, store.Invalid("smtp.username", "is required when smtp.password is set"))
	}
	switch {
	case s.From == "" && s.Configured():
		errs = append(errs, store.Invalid("smtp.from", "is required when smtp.host is set (e.g. \"Cloche <noreply@example.org>\")"))
	case s.From != "":
		if _, err := mail.ParseAddress(s.From); err != nil {
			errs = append(errs, store.Invalid("smtp.from", "%q is not an e-mail address: %v", s.From, err))
		}
	}
	if s.ReplyTo != "" {
		if _, err := mail.ParseAddress(s.ReplyTo); err != nil {
			errs = append(errs, store.Invalid("smtp.reply_to", "%q is not an e-mail address: %v", s.ReplyTo, err))
		}
	}
	return errs
}

func (e Email) validate() []error {
	var errs []error
	switch e.DefaultLocale {
	case "fr", "en":
	default:
		errs = append(errs, store.Invalid("email.default_locale", "must be fr or en, not %q", e.DefaultLocale))
	}
	if e.MaxAttachmentSize <= 0 {
		errs = append(errs, store.Invalid("email.max_attachment_size", "must be positive"))
	}
	if e.MaxAttempts < 1 || e.MaxAttempts > 100 {
		errs = append(errs, store.Invalid("email.max_attempts", "must be between 1 and 100"))
	}
	if e.RetryBase <= 0 {
		errs = append(errs, store.Invalid("email.retry_base", "must be positive"))
	}
	if e.RetryWindow < e.RetryBase {
		errs = append(errs, store.Invalid("email.retry_window", "must be at least email.retry_base (%s)", e.RetryBase))
	}
	if e.BatchSize < 1 || e.BatchSize > 5000 {
		errs = append(errs, store.Invalid("email.batch_size", "must be between 1 and 5000"))
	}
	if e.Lease < Duration(time.Second) || e.Lease > Duration(time.Hour) {
		errs = append(errs, store.Invalid("email.lease", "must be between 1s and 1h, not %s", e.Lease))
	}
	return errs
}

// ByteSize is a number of bytes that also reads units: "10MiB", "512KB",
// "2M", "1048576".
type ByteSize int64

// UnmarshalText implements encoding.TextUnmarshaler.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = ByteSize(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

func (b ByteSize) String() string {
	switch {
	case b > 0 && b%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", b>>20)
	case b > 0 && b%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", b>>10)
	}
	return strconv.FormatInt(int64(b), 10)
}

// ParseByteSize reads a size in bytes with an optional unit: B, KB/KiB/K
// (1024), MB/MiB/M, GB/GiB/G. Units are binary and case does not matter.
func ParseByteSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := len(t)
	for i > 0 && (t[i-1] < '0' || t[i-1] > '9') {
		i--
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t[:i]), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (use e.g. 10MiB, 512KB, 1048576)", s)
	}
	var shift uint
	switch strings.ToLower(strings.TrimSpace(t[i:])) {
	case "", "b":
	case "k", "kb", "kib":
		shift = 10
	case "m", "mb", "mib":
		shift = 20
	case "g", "gb", "gib":
		shift = 30
	default:
		return 0, fmt.Errorf("invalid size %q (use e.g. 10MiB, 512KB, 1048576)", s)
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return n << shift, nil
}

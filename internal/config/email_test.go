package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func TestLoadEmailSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloche.toml")
	err := os.WriteFile(path, []byte(`
[smtp]
host = "mail.example.org"
port = 2525
username = "cloche"
tls = "tls"
from = "Cloche <noreply@example.org>"
reply_to = "support@example.org"
helo = "cloche.example.org"
timeout = "10s"
connections = 8

[email]
templates_dir = "/etc/cloche/templates"
default_locale = "en"
max_attachment_size = "2MiB"
max_attempts = 5
retry_base = "1m"
retry_window = "12h"
batch_size = 200
lease = "20s"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, []string{"CLOCHE_SMTP__PASSWORD=s3cret", "CLOCHE_SMTP__CONNECTIONS=6"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := SMTP{Host: "mail.example.org", Port: 2525, Username: "cloche", Password: "s3cret", TLS: "tls",
		From: "Cloche <noreply@example.org>", ReplyTo: "support@example.org", HELO: "cloche.example.org",
		Timeout: Duration(10 * time.Second), Connections: 6}
	if cfg.SMTP != want {
		t.Errorf("smtp = %+v\nwant %+v", cfg.SMTP, want)
	}
	wantEmail := Email{TemplatesDir: "/etc/cloche/templates", DefaultLocale: "en", MaxAttachmentSize: 2 << 20,
		MaxAttempts: 5, RetryBase: Duration(time.Minute), RetryWindow: Duration(12 * time.Hour), BatchSize: 200,
		Lease: Duration(20 * time.Second)}
	if cfg.Email != wantEmail {
		t.Errorf("email = %+v\nwant %+v", cfg.Email, wantEmail)
	}
}

func TestEmailDefaults(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults must be valid without a mail server: %v", err)
	}
	if cfg.SMTP.Configured() {
		t.Error("no mail server is configured by default")
	}
	cases := []struct {
		tls  string
		port int
		want int
	}{{"starttls", 0, 587}, {"tls", 0, 465}, {"none", 0, 25}, {"tls", 2465, 2465}}
	for _, tc := range cases {
		if got := (SMTP{TLS: tc.tls, Port: tc.port}).PortOrDefault(); got != tc.want {
			t.Errorf("port of %s/%d = %d, want %d", tc.tls, tc.port, got, tc.want)
		}
	}
}

func TestLoadRejectsEmailSettings(t *testing.T) {
	host := "CLOCHE_SMTP__HOST=mail.example.org"
	from := "CLOCHE_SMTP__FROM=noreply@example.org"
	cases := []struct {
		env   []string
		field string
	}{
		{[]string{"CLOCHE_SMTP__TLS=ssl"}, "smtp.tls"},
		{[]string{"CLOCHE_SMTP__PORT=70000"}, "smtp.port"},
		{[]string{"CLOCHE_SMTP__TIMEOUT=0s"}, "smtp.timeout"},
		{[]string{"CLOCHE_SMTP__CONNECTIONS=0"}, "smtp.connections"},
		{[]string{host}, "smtp.from"},
		{[]string{host, "CLOCHE_SMTP__FROM=not an address"}, "smtp.from"},
		{[]string{host, from, "CLOCHE_SMTP__REPLY_TO=@@"}, "smtp.reply_to"},
		{[]string{host, from, "CLOCHE_SMTP__HELO=two words"}, "smtp.helo"},
		{[]string{host, from, "CLOCHE_SMTP__PASSWORD=x"}, "smtp.username"},
		{[]string{"CLOCHE_SMTP__HOST=mail.example.org/x", from}, "smtp.host"},
		{[]string{"CLOCHE_EMAIL__DEFAULT_LOCALE=de"}, "email.default_locale"},
		{[]string{"CLOCHE_EMAIL__MAX_ATTACHMENT_SIZE=0"}, "email.max_attachment_size"},
		{[]string{"CLOCHE_EMAIL__MAX_ATTEMPTS=0"}, "email.max_attempts"},
		{[]string{"CLOCHE_EMAIL__RETRY_BASE=0s"}, "email.retry_base"},
		{[]string{"CLOCHE_EMAIL__RETRY_WINDOW=10s"}, "email.retry_window"},
		{[]string{"CLOCHE_EMAIL__BATCH_SIZE=10000"}, "email.batch_size"},
		{[]string{"CLOCHE_EMAIL__LEASE=500ms"}, "email.lease"},
		{[]string{"CLOCHE_EMAIL__LEASE=2h"}, "email.lease"},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			_, err := Load("", tc.env, nil)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("%v: err = %v, want a field error on %s", tc.env, err, tc.field)
			}
		})
	}
	if _, err := Load("", []string{"CLOCHE_EMAIL__MAX_ATTACHMENT_SIZE=lots"}, nil); err == nil {
		t.Error("an unreadable size must be an error")
	}
}

func TestParseByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true}, {"10MiB", 10 << 20, true}, {"10 MB", 10 << 20, true}, {"512kb", 512 << 10, true},
		{"2G", 2 << 30, true}, {"7B", 7, true}, {"", 0, false}, {"MB", 0, false}, {"-1", 0, false}, {"3 parsecs", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseByteSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if s := ByteSize(10 << 20).String(); s != "10MiB" {
		t.Errorf("String() = %q", s)
	}
}

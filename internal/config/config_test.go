package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cloche.toml")
	err := os.WriteFile(path, []byte(`
database_url = "from-file.db"
time_zone = "Europe/Paris"
read_retention = "30d"
follower_fallback_groups = ["boss"]

[scheduler]
workers = 7
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"CLOCHE_DATABASE_URL=from-env.db", "CLOCHE_SCHEDULER__WORKERS=9", "CLOCHE_FOLLOWER_FALLBACK_GROUPS=a, b",
		"CLOCHE_TEST_REQUIRE_ALL=1", "CLOCHE_CONFIG=" + path, "HOME=/root"}
	cfg, err := Load(path, env, map[string]any{"database_url": "from-flag.db"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "from-flag.db" {
		t.Errorf("database_url %q: flags must win", cfg.DatabaseURL)
	}
	if cfg.Scheduler.Workers != 9 {
		t.Errorf("workers %d: environment must beat the file", cfg.Scheduler.Workers)
	}
	if cfg.ReadRetention.D() != 30*24*time.Hour || cfg.TimeZone != "Europe/Paris" {
		t.Errorf("file values lost: %v %q", cfg.ReadRetention, cfg.TimeZone)
	}
	if strings.Join(cfg.FollowerFallbackGroups, ",") != "a,b" {
		t.Errorf("fallback groups %v", cfg.FollowerFallbackGroups)
	}
	if cfg.PostponeDefault.D() != 7*24*time.Hour {
		t.Errorf("default postpone %v", cfg.PostponeDefault)
	}
}

func TestLoadRejects(t *testing.T) {
	cases := []struct {
		env   string
		field string
	}{
		{"CLOCHE_TIME_ZONE=Mars/Olympus", "time_zone"},
		{"CLOCHE_READ_RETENTION=0s", "read_retention"},
		{"CLOCHE_LOG__LEVEL=loud", "log.level"},
		{"CLOCHE_SCHEDULER__WORKERS=0", "scheduler.workers"},
		{"CLOCHE_SCHEDULER__POLL_INTERVAL=1ms", "scheduler.poll_interval"},
		{"CLOCHE_CHECK__MAX_ATTEMPTS=0", "check.max_attempts"},
		{"CLOCHE_DATABASE_URL=", "database_url"},
		{"CLOCHE_REALTIME__KEEP_ALIVE=0s", "realtime.keep_alive"},
		{"CLOCHE_REALTIME__POLL_INTERVAL=2s", "realtime.poll_interval"},
		{"CLOCHE_REALTIME__RETRY=10ms", "realtime.retry"},
		{"CLOCHE_REALTIME__RESUME_WINDOW=0s", "realtime.resume_window"},
		{"CLOCHE_REALTIME__MAX_STREAMS=-1", "realtime.max_streams"},
		{"CLOCHE_REALTIME__MAX_STREAMS_PER_USER=-1", "realtime.max_streams_per_user"},
	}
	for _, tc := range cases {
		t.Run(tc.field, func(t *testing.T) {
			_, err := Load("", []string{tc.env}, nil)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
	if _, err := Load("", []string{"CLOCHE_NO_SUCH_SETTING=1"}, nil); err == nil || !strings.Contains(err.Error(), "CLOCHE_NO_SUCH_SETTING") {
		t.Fatalf("unknown setting: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml"), nil, nil); err == nil {
		t.Fatal("a missing config file must be an error")
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]time.Duration{
		"90d": 90 * 24 * time.Hour, "1d12h": 36 * time.Hour, "15m": 15 * time.Minute, " 2h ": 2 * time.Hour,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "xd", "3 days", "1dx"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
}

func TestConsole(t *testing.T) {
	cfg, err := Load("", []string{
		"CLOCHE_CONSOLE__ADMIN_PASSWORD=correct horse battery",
		"CLOCHE_CONSOLE__SESSION_TTL=2h",
		"CLOCHE_CONSOLE__TRUSTED_ORIGINS=https://admin.example.org,http://127.0.0.1:9000",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Console.AdminPassword != "correct horse battery" || cfg.Console.SessionTTL.D() != 2*time.Hour {
		t.Errorf("console = %+v", cfg.Console)
	}
	if strings.Join(cfg.Console.TrustedOrigins, " ") != "https://admin.example.org http://127.0.0.1:9000" {
		t.Errorf("trusted origins = %q", cfg.Console.TrustedOrigins)
	}
	if d := Default().Console; d.AdminPassword != "" || d.SessionTTL.D() != 12*time.Hour {
		t.Errorf("default console = %+v, want no password and 12h logins", d)
	}

	cases := []struct {
		name, env, field string
	}{
		{"short password", "CLOCHE_CONSOLE__ADMIN_PASSWORD=hunter2", "console.admin_password"},
		{"short secret", "CLOCHE_CONSOLE__SESSION_SECRET=abc", "console.session_secret"},
		{"short ttl", "CLOCHE_CONSOLE__SESSION_TTL=1m", "console.session_ttl"},
		{"long ttl", "CLOCHE_CONSOLE__SESSION_TTL=60d", "console.session_ttl"},
		{"origin with a path", "CLOCHE_CONSOLE__TRUSTED_ORIGINS=https://example.org/console", "console.trusted_origins"},
		{"origin without scheme", "CLOCHE_CONSOLE__TRUSTED_ORIGINS=example.org", "console.trusted_origins"},
		{"origin with a slash", "CLOCHE_CONSOLE__TRUSTED_ORIGINS=https://example.org/", "console.trusted_origins"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("", []string{tc.env}, nil)
			var fe *store.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Fatalf("err = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}

package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Config is every setting of Cloche. The zero value is not usable: start
// from Default.
type Config struct {
	// DatabaseURL is a SQLite file path or `sqlite:` URL, or a
	// `postgres://` URL.
	DatabaseURL string `koanf:"database_url"`
	// TimeZone is the zone of datetimes given without an offset on the
	// command line ("2023-12-05 12:00:00"). "Local" is the machine's.
	TimeZone string `koanf:"time_zone"`
	// FollowerFallbackGroups receive what is sent to the follower of a
	// person who has none.
	FollowerFallbackGroups []string `koanf:"follower_fallback_groups"`
	// ReadRetention is how long read notifications are kept.
	ReadRetention Duration `koanf:"read_retention"`
	// PostponeDefault is how long a postponed notification stays hidden
	// when no date is given.
	PostponeDefault Duration `koanf:"postpone_default"`

	Log       Log       `koanf:"log"`
	Scheduler Scheduler `koanf:"scheduler"`
	Check     Check     `koanf:"check"`
	Console   Console   `koanf:"console"`
	SMTP      SMTP      `koanf:"smtp"`
	Email     Email     `koanf:"email"`
	Webhooks  Webhooks  `koanf:"webhooks"`
	Push      Push      `koanf:"push"`

	// The HTTP API and its authentication (http.go).
	HTTP     HTTP     `koanf:"http"`
	Auth     Auth     `koanf:"auth"`
	Realtime Realtime `koanf:"realtime"`
}

// Log configures log/slog.
type Log struct {
	Level  string `koanf:"level"`  // debug, info, warn, error
	Format string `koanf:"format"` // text or json
}

// Scheduler configures the job runner (River).
type Scheduler struct {
	// Workers is how many jobs run at once in one process.
	Workers int `koanf:"workers"`
	// PollInterval bounds how late a scheduled event may be published.
	PollInterval Duration `koanf:"poll_interval"`
	// PurgeInterval is how often read and expired notifications are purged.
	PurgeInterval Duration `koanf:"purge_interval"`
}

// Check configures the calls to the host: an event's check_url at due
// time, and an action's callback when a person presses its button.
type Check struct {
	// SigningSecret signs those calls (internal/hostsign). Empty: the
	// user-token secret (auth.token_secret, or the one Cloche generated,
	// which `cloche token secret` shows).
	SigningSecret string   `koanf:"signing_secret"`
	Timeout       Duration `koanf:"timeout"`
	MaxAttempts   int      `koanf:"max_attempts"`
	// RetryBase is the wait after the first failed attempt; it doubles at
	// each one, up to 5 minutes.
	RetryBase Duration `koanf:"retry_base"`
}

// Realtime configures the live stream of a user's notifications.
type Realtime struct {
	// KeepAlive is the interval of keep-alive comments on idle streams.
	KeepAlive Duration `koanf:"keep_alive"`
	// PollInterval is how often, on SQLite, a server looks for what other
	// processes wrote (what it writes itself is sent at once). At most 1s.
	PollInterval Duration `koanf:"poll_interval"`
	// Retry is the reconnection delay suggested to clients (spread up to
	// twice as much).
	Retry Duration `koanf:"retry"`
	// ResumeWindow is how far before its last event a reconnecting stream
	// looks for notifications on PostgreSQL: the longest a notify may take
	// to commit, plus clock skew between servers.
	ResumeWindow Duration `koanf:"resume_window"`
	// MaxStreams caps the open streams of one server (0: no cap).
	MaxStreams int `koanf:"max_streams"`
	// MaxStreamsPerUser caps the open streams of one user on one server,
	// a page's tabs (0: no cap).
	MaxStreamsPerUser int `koanf:"max_streams_per_user"`
}

// Default returns the settings used when nothing else is said.
func Default() Config {
	return Config{
		DatabaseURL:            "cloche.db",
		TimeZone:               "Local",
		FollowerFallbackGroups: []string{"manager", "admin"},
		ReadRetention:          Duration(90 * 24 * time.Hour),
		PostponeDefault:        Duration(7 * 24 * time.Hour),
		Log:                    Log{Level: "info", Format: "text"},
		Scheduler: Scheduler{
			Workers:       50,
			PollInterval:  Duration(250 * time.Millisecond),
			PurgeInterval: Duration(time.Hour),
		},
		Check: Check{Timeout: Duration(5 * time.Second), MaxAttempts: 5, RetryBase: Duration(5 * time.Second)},

		Console:  Console{SessionTTL: Duration(12 * time.Hour)},
		SMTP:     defaultSMTP(),
		Email:    defaultEmail(),
		Webhooks: defaultWebhooks(),
		Push:     defaultPush(),
		HTTP:     defaultHTTP(),
		Auth:     defaultAuth(),
		Realtime: Realtime{
			KeepAlive:         Duration(15 * time.Second),
			PollInterval:      Duration(250 * time.Millisecond),
			Retry:             Duration(3 * time.Second),
			ResumeWindow:      Duration(time.Minute),
			MaxStreamsPerUser: 32,
		},
	}
}

// Validate checks every setting and names the first wrong one.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DatabaseURL) == "" {
		errs = append(errs, store.Invalid("database_url", "must not be empty"))
	}
	if _, err := c.Location(); err != nil {
		errs = append(errs, store.Invalid("time_zone", "%v", err))
	}
	if c.ReadRetention <= 0 {
		errs = append(errs, store.Invalid("read_retention", "must be positive"))
	}
	if c.PostponeDefault <= 0 {
		errs = append(errs, store.Invalid("postpone_default", "must be positive"))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, store.Invalid("log.level", "must be debug, info, warn or error, not %q", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		errs = append(errs, store.Invalid("log.format", "must be text or json, not %q", c.Log.Format))
	}
	if c.Scheduler.Workers < 1 {
		errs = append(errs, store.Invalid("scheduler.workers", "must be at least 1"))
	}
	if c.Scheduler.PollInterval < Duration(100*time.Millisecond) {
		errs = append(errs, store.Invalid("scheduler.poll_interval", "must be at least 100ms"))
	}
	if c.Scheduler.PurgeInterval < Duration(time.Minute) {
		errs = append(errs, store.Invalid("scheduler.purge_interval", "must be at least 1m"))
	}
	if c.Check.Timeout <= 0 {
		errs = append(errs, store.Invalid("check.timeout", "must be positive"))
	}
	if c.Check.RetryBase <= 0 {
		errs = append(errs, store.Invalid("check.retry_base", "must be positive"))
	}
	if c.Check.SigningSecret != "" && len(c.Check.SigningSecret) < MinTokenSecretLen {
		errs = append(errs, store.Invalid("check.signing_secret", "must be at least %d bytes long", MinTokenSecretLen))
	}
	if c.Check.MaxAttempts < 1 {
		errs = append(errs, store.Invalid("check.max_attempts", "must be at least 1"))
	}
	errs = append(errs, c.Console.validate()...)
	errs = append(errs, c.SMTP.validate()...)
	errs = append(errs, c.Email.validate()...)
	errs = append(errs, c.Webhooks.validate()...)
	errs = append(errs, c.Push.validate()...)
	errs = append(errs, c.HTTP.validate(), c.Auth.validate())
	errs = append(errs, c.Realtime.validate()...)
	return errors.Join(errs...)
}

// Location returns the configured time zone.
func (c Config) Location() (*time.Location, error) {
	if c.TimeZone == "" || c.TimeZone == "Local" {
		return time.Local, nil
	}
	return time.LoadLocation(c.TimeZone)
}

// Duration is a time.Duration that also reads days: "90d", "36h", "1d12h".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// ParseDuration is time.ParseDuration with a leading count of days allowed.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 90d, 36h, 15m)", s)
	}
	return days + v, nil
}

func (r Realtime) validate() []error {
	var errs []error
	if r.KeepAlive < Duration(10*time.Millisecond) {
		errs = append(errs, store.Invalid("realtime.keep_alive", "must be at least 10ms"))
	}
	if r.PollInterval < Duration(10*time.Millisecond) || r.PollInterval > Duration(time.Second) {
		errs = append(errs, store.Invalid("realtime.poll_interval", "must be between 10ms and 1s"))
	}
	if r.Retry < Duration(100*time.Millisecond) {
		errs = append(errs, store.Invalid("realtime.retry", "must be at least 100ms"))
	}
	if r.ResumeWindow < Duration(time.Second) {
		errs = append(errs, store.Invalid("realtime.resume_window", "must be at least 1s"))
	}
	if r.MaxStreams < 0 {
		errs = append(errs, store.Invalid("realtime.max_streams", "must not be negative (0: no cap)"))
	}
	if r.MaxStreamsPerUser < 0 {
		errs = append(errs, store.Invalid("realtime.max_streams_per_user", "must not be negative (0: no cap)"))
	}
	return errs
}

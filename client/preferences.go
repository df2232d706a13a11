package client

import (
	"context"
	"time"
)

// PreferenceSetting turns a channel on or off for a type (Type, a key) or
// a whole category (Category, a key's first segment): name exactly one.
type PreferenceSetting struct {
	Type      string     `json:"type,omitempty"`
	Category  string     `json:"category,omitempty"`
	Channel   string     `json:"channel"`
	Enabled   bool       `json:"enabled"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

// Preferences are a user's settings (or the organisation defaults, with
// no UserID) and the channels they amount to for every type.
type Preferences struct {
	UserID    string              `json:"user_id,omitempty"`
	Settings  []PreferenceSetting `json:"settings"`
	Effective []TypeChannels      `json:"effective"`
	// A person's time zone, quiet hours, unread delay and digests (absent
	// from the organisation defaults).
	PersonPreferences
}

// PersonPreferences are the fields of a person's preference document
// that are not about one type.
type PersonPreferences struct {
	// TimeZone is an IANA name; empty in a PUT: the organisation's.
	TimeZone string `json:"time_zone,omitempty"`
	// QuietHours: nil, none.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// EmailIfUnreadMinutes: nil, the type's; 0, never wait.
	EmailIfUnreadMinutes *int `json:"email_if_unread_minutes,omitempty"`
	// Digest is how often the person receives their e-mail; nil in a
	// PUT: immediate. CategoryDigests are categories' own schedules.
	Digest          *DigestSchedule  `json:"digest,omitempty"`
	CategoryDigests []CategoryDigest `json:"category_digests,omitempty"`
}

// DigestSchedule is how often a person receives their e-mail, in their
// time zone: Frequency immediate (the default), hourly, daily at At
// ("08:00"), or weekly on Day ("monday") at At.
type DigestSchedule struct {
	Frequency string `json:"frequency"`
	At        string `json:"at,omitempty"`
	Day       string `json:"day,omitempty"`
}

// CategoryDigest is a category's own digest schedule, over the person's.
type CategoryDigest struct {
	Category string `json:"category"`
	DigestSchedule
}

// QuietHours are a daily window ("HH:MM" in the person's zone; End before
// Start crosses midnight) and whole Days ("saturday"…) during which
// e-mail is held until they end.
type QuietHours struct {
	Start string   `json:"start"`
	End   string   `json:"end"`
	Days  []string `json:"days,omitempty"`
}

// PreferencesDocument is a whole preference document, as a PUT takes it.
type PreferencesDocument struct {
	Settings []PreferenceSetting `json:"settings"`
	PersonPreferences
}

// TypeChannels are the channels a notification of a type reaches the
// person on, unless its sender forces one.
type TypeChannels struct {
	Type           string   `json:"type"`
	Label          string   `json:"label,omitempty"`
	Category       string   `json:"category"`
	DefaultChannel string   `json:"default_channel"`
	Mandatory      bool     `json:"mandatory"`
	Channels       []string `json:"channels"`
}

// Preferences returns the inbox's user's preferences.
func (in *Inbox) Preferences(ctx context.Context) (*Preferences, error) {
	return in.c.getPreferences(ctx, in.prefix+"/preferences")
}

// SetPreferences replaces the whole preference document of the inbox's
// user with settings: their time zone, quiet hours, unread delay and
// digests go back to their defaults (PutPreferences sets them too).
func (in *Inbox) SetPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return in.c.putPreferences(ctx, in.prefix+"/preferences", PreferencesDocument{Settings: settings})
}

// PutPreferences replaces the whole preference document of the inbox's
// user: settings, time zone, quiet hours, unread delay,
// digests.
func (in *Inbox) PutPreferences(ctx context.Context, doc PreferencesDocument) (*Preferences, error) {
	return in.c.putPreferences(ctx, in.prefix+"/preferences", doc)
}

// DefaultPreferences returns the organisation defaults.
func (c *Client) DefaultPreferences(ctx context.Context) (*Preferences, error) {
	return c.getPreferences(ctx, "/api/v1/preferences/defaults")
}

// SetDefaultPreferences replaces the organisation defaults.
func (c *Client) SetDefaultPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return c.putPreferences(ctx, "/api/v1/preferences/defaults", PreferencesDocument{Settings: settings})
}

func (c *Client) getPreferences(ctx context.Context, path string) (*Preferences, error) {
	var p Preferences
	if _, err := c.call(ctx, "GET", path, nil, nil, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) putPreferences(ctx context.Context, path string, doc PreferencesDocument) (*Preferences, error) {
	if doc.Settings == nil {
		doc.Settings = []PreferenceSetting{}
	}
	var p Preferences
	if _, err := c.call(ctx, "PUT", path, nil, doc, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

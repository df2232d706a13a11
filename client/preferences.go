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
	// Digest and CategoryDigests are the person's e-mail frequency
	// (absent for the organisation defaults).
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

// PreferencesDocument is what a PUT replaces: every setting and the
// digest schedules (nil Digest: immediate).
type PreferencesDocument struct {
	Settings        []PreferenceSetting `json:"settings"`
	Digest          *DigestSchedule     `json:"digest,omitempty"`
	CategoryDigests []CategoryDigest    `json:"category_digests,omitempty"`
}

// TypeChannels are the channels a notification of a type reaches the
// person on, unless its sender forces one.
type TypeChannels struct {
	Type           string   `json:"type"`
	Category       string   `json:"category"`
	DefaultChannel string   `json:"default_channel"`
	Mandatory      bool     `json:"mandatory"`
	Channels       []string `json:"channels"`
}

// Preferences returns the inbox's user's preferences.
func (in *Inbox) Preferences(ctx context.Context) (*Preferences, error) {
	return in.c.getPreferences(ctx, in.prefix+"/preferences")
}

// SetPreferences replaces every setting of the inbox's user. Like any
// PUT of the document, it sets the digest schedules back to immediate:
// use ReplacePreferences to keep or set them.
func (in *Inbox) SetPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return in.c.putPreferences(ctx, in.prefix+"/preferences", PreferencesDocument{Settings: settings})
}

// ReplacePreferences replaces the whole preference document of the
// inbox's user: settings and digest schedules.
func (in *Inbox) ReplacePreferences(ctx context.Context, doc PreferencesDocument) (*Preferences, error) {
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

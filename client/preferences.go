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

type preferencesRequest struct {
	Settings []PreferenceSetting `json:"settings"`
}

// Preferences returns the inbox's user's preferences.
func (in *Inbox) Preferences(ctx context.Context) (*Preferences, error) {
	return in.c.getPreferences(ctx, in.prefix+"/preferences")
}

// SetPreferences replaces every setting of the inbox's user.
func (in *Inbox) SetPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return in.c.putPreferences(ctx, in.prefix+"/preferences", settings)
}

// DefaultPreferences returns the organisation defaults.
func (c *Client) DefaultPreferences(ctx context.Context) (*Preferences, error) {
	return c.getPreferences(ctx, "/api/v1/preferences/defaults")
}

// SetDefaultPreferences replaces the organisation defaults.
func (c *Client) SetDefaultPreferences(ctx context.Context, settings []PreferenceSetting) (*Preferences, error) {
	return c.putPreferences(ctx, "/api/v1/preferences/defaults", settings)
}

func (c *Client) getPreferences(ctx context.Context, path string) (*Preferences, error) {
	var p Preferences
	if _, err := c.call(ctx, "GET", path, nil, nil, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

func (c *Client) putPreferences(ctx context.Context, path string, settings []PreferenceSetting) (*Preferences, error) {
	if settings == nil {
		settings = []PreferenceSetting{}
	}
	var p Preferences
	if _, err := c.call(ctx, "PUT", path, nil, preferencesRequest{Settings: settings}, &p, nil); err != nil {
		return nil, err
	}
	return &p, nil
}

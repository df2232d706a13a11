package store

import (
	"context"
	"strings"
	"time"
)

// This file holds preferences per type and channel (migration 00008): a
// person's settings, the organisation defaults, the flag that makes a type
// mandatory, and what a publication needs to apply them in its fan-out.

// ScopeKind tells whether a preference is about one type or a category.
type ScopeKind string

// The two kinds of scope. A type's setting wins over its category's.
const (
	ScopeType     ScopeKind = "type"
	ScopeCategory ScopeKind = "category"
)

// Category is the category of a type key: its first segment
// ("task:status:valid" → "task").
func Category(key string) string {
	c, _, _ := strings.Cut(key, ":")
	return c
}

// Preference turns a channel on or off for a type or a category, for one
// person (UserID) or, in the organisation defaults, for everybody (UserID
// empty).
type Preference struct {
	UserID    string    `json:"-"`
	Kind      ScopeKind `json:"kind"`
	Scope     string    `json:"scope"`
	Channel   Channel   `json:"channel"`
	Enabled   bool      `json:"enabled"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PreferenceQueries are the preferences' operations of a store.
type PreferenceQueries interface {
	// PreferenceList returns a person's settings (the organisation
	// defaults when userID is empty), by kind, scope and channel.
	PreferenceList(ctx context.Context, userID string) ([]Preference, error)
	// PreferenceReplace replaces every setting of a person (of the
	// organisation when userID is empty) by prefs. It is one statement
	// pair: run it in a transaction. A person who does not exist is
	// ErrNotFound.
	PreferenceReplace(ctx context.Context, userID string, prefs []Preference) error
	// PreferenceSummary says, for a type key and its category, which
	// settings exist: what a publication reads once to know which
	// channels to fan out to and whether to filter.
	PreferenceSummary(ctx context.Context, key string) (*PreferenceSummary, error)
	// PreferenceExceptions returns the users, active or not, whom their
	// own settings give f.Channel for f.Key when f.Fallback is false, or
	// take it from when f.Fallback is true: the exceptions to the
	// fallback, found from the settings (few) rather than the recipients
	// (many). Sorted by id.
	PreferenceExceptions(ctx context.Context, f *PreferenceFilter) ([]string, error)
	// PreferenceSkipInsert records users as skipped on a channel of an
	// event because of a preference.
	PreferenceSkipInsert(ctx context.Context, eventID int64, ch Channel, userIDs []string) error
	// GroupContactsAmong is GroupContacts limited to the users of ids.
	GroupContactsAmong(ctx context.Context, groups, ids []string) ([]Contact, error)
	// PreferenceSkipList returns the recipients of an event who got
	// nothing on a channel because of a preference, by channel and user.
	PreferenceSkipList(ctx context.Context, eventID int64, limit int) ([]PreferenceSkip, error)
	// TypeSetMandatory makes a type mandatory or not.
	TypeSetMandatory(ctx context.Context, key string, mandatory bool) error
}

// PreferenceSummary is what settings exist for one type and its category.
type PreferenceSummary struct {
	// Defaults are the organisation defaults that apply to the type, per
	// channel (the type's setting over its category's).
	Defaults map[Channel]bool
	// UsersOn and UsersOff tell on which channels somebody turned the type
	// or its category on, or off.
	UsersOn, UsersOff map[Channel]bool
}

// PreferenceFilter applies preferences to one channel of a fan-out: a
// recipient gets the channel when their type setting says so, else their
// category setting, else Fallback (the organisation default, else whether
// Channel is the type's default channel).
type PreferenceFilter struct {
	EventID  int64
	Key      string
	Category string
	Channel  Channel
	Fallback bool
	// Skips records the recipients for whom the channel is off as skipped
	// "because of a preference", for the event's report.
	Skips bool
}

// PreferenceSkip is a recipient who got nothing on a channel because of a
// preference, or (an event's report) whose e-mail is still held.
type PreferenceSkip struct {
	UserID  string  `json:"user_id"`
	Channel Channel `json:"channel"`
	Reason  string  `json:"reason"` // "preference", HoldQuietHours, HoldUnread, HoldDigest
	// NotBefore is when a held e-mail may leave (for a digest: when
	// the digest falls due).
	NotBefore *time.Time `json:"not_before,omitempty"`
}

// SkipReasonPreference is the reason of every PreferenceSkip.
const SkipReasonPreference = "preference"

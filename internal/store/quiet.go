package store

import (
	"context"
	"time"
)

// This file holds time zones, quiet hours and e-mail only if unread
// (migration 00009): a person's settings, a type's unread delay, and the
// held e-mail deliveries (a not-before time on an ordinary delivery).

// Why a delivery is held.
const (
	HoldQuietHours = "quiet_hours" // until the person's quiet hours end
	HoldUnread     = "unread"      // until the unread delay ends; reading cancels it
	HoldDigest     = "digest"      // held for the person's next digest
)

// SkipReasonRead is the last message of a delivery skipped because its
// in-app notification was read before it fell due.
const SkipReasonRead = "read in the app before the e-mail was due"

// PersonSettings are a person's time-related settings.
type PersonSettings struct {
	// TimeZone is an IANA name; empty: the organisation's setting.
	TimeZone string
	// QuietHours is the JSON of the person's quiet hours; empty: none.
	QuietHours string
	// EmailIfUnreadMinutes is how long an e-mail waits for the in-app
	// notification to be read; nil: the type's; 0: never.
	EmailIfUnreadMinutes *int
}

// HoldCandidate is an e-mail delivery of an event to a person who may
// want it held: their settings, and whether they have an in-app
// notification of the event.
type HoldCandidate struct {
	DeliveryID           int64
	UserID               string
	TimeZone             string
	QuietHours           string
	EmailIfUnreadMinutes *int
	InApp                bool
}

// DeliveryHoldParams hold one delivery until NotBefore.
type DeliveryHoldParams struct {
	ID         int64
	NotBefore  time.Time
	Reason     string // HoldQuietHours or HoldUnread
	UnlessRead bool
}

// HeldDelivery is an e-mail of an event still held.
type HeldDelivery struct {
	UserID    string    `json:"user_id"`
	Address   string    `json:"address"`
	NotBefore time.Time `json:"not_before"`
	Reason    string    `json:"reason"`
}

// QuietQueries are the operations of a store on time zones, quiet hours
// and held e-mail.
type QuietQueries interface {
	// PersonSettingsGet returns a person's settings (ErrNotFound when
	// there is no such person).
	PersonSettingsGet(ctx context.Context, userID string) (*PersonSettings, error)
	// PersonSettingsSet replaces them.
	PersonSettingsSet(ctx context.Context, userID string, s *PersonSettings) error
	// TypeSetEmailIfUnread sets a type's unread delay in minutes (0: none).
	TypeSetEmailIfUnread(ctx context.Context, key string, minutes int) error
	// DeliveryHoldCandidates returns the queued deliveries of an event to
	// people who have quiet hours, or an unread delay (theirs, or the
	// type's typeMinutes when they set none), by delivery id.
	DeliveryHoldCandidates(ctx context.Context, eventID int64, typeMinutes int) ([]HoldCandidate, error)
	// DeliveryHold gives queued deliveries their not-before time.
	DeliveryHold(ctx context.Context, holds []DeliveryHoldParams) error
	// DeliveryHeldList returns up to limit deliveries of an event still
	// held at now, by user.
	DeliveryHeldList(ctx context.Context, eventID int64, now time.Time, limit int) ([]HeldDelivery, error)
}

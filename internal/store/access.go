package store

import (
	"context"
	"time"
)

// This file holds what the HTTP API needs of a store (migration 00003): API
// keys, settings, idempotency keys, directory listings, delivery retry,
// statistics and savepoints.

// APIKey is a host application's credential. Only a hash of the key is
// stored; Prefix, the key's first characters, lets people recognise it.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"` // hex SHA-256 of the whole key
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// IdempotencyRecord remembers the answer to a request sent with an
// Idempotency-Key, so that a retry gets the same answer and creates nothing.
type IdempotencyRecord struct {
	Scope       string // whose key it is (an API key id)
	Key         string
	Fingerprint string // hash of the request it answered
	Result      string // JSON of the answer; empty until completed
	CreatedAt   time.Time
}

// IdempotencyClaimParams claim a key: the record is created unless a live one
// (created at or after ExpiredBefore) exists.
type IdempotencyClaimParams struct {
	Record        IdempotencyRecord
	ExpiredBefore time.Time
}

// Group is a group name with its number of members.
type Group struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// UserListParams select a page of users ordered by id. Zero fields do not
// filter; AfterID continues a previous page.
type UserListParams struct {
	Group     string
	CompanyID string
	AfterID   string
	Limit     int
}

// GroupSetMembersParams make exactly UserIDs the members of Group.
type GroupSetMembersParams struct {
	Group   string
	UserIDs []string
}

// MonitorStats are figures for monitoring, cheap to compute.
type MonitorStats struct {
	// DeliveriesByState counts deliveries per state, every channel
	// together (every state present, zero included).
	DeliveriesByState map[DeliveryState]int
	// DeliveriesByChannel counts them per channel (those with deliveries;
	// nil when there are none) and state (every state present, zero
	// included).
	DeliveriesByChannel map[string]map[DeliveryState]int
	// OldestOverdue is the due datetime of the oldest pending event that
	// is due (before Now) and not published yet; nil when none is.
	OldestOverdue *time.Time
}

// AccessQueries are the store operations added for the HTTP API.
type AccessQueries interface {
	// APIKeyInsert stores k and sets its ID; ErrConflict when an active
	// key already has its name or hash.
	APIKeyInsert(ctx context.Context, k *APIKey) error
	// APIKeyList returns every key, revoked ones included, by id.
	APIKeyList(ctx context.Context) ([]APIKey, error)
	// APIKeyGetByHash returns the key (revoked or not) whose hash is given.
	APIKeyGetByHash(ctx context.Context, hash string) (*APIKey, error)
	// APIKeyGet returns key id (revoked or not); ErrNotFound if there is
	// none.
	APIKeyGet(ctx context.Context, id int64) (*APIKey, error)
	// APIKeyRevoke revokes key id; ErrNotFound if there is none,
	// ErrConflict if it is revoked already.
	APIKeyRevoke(ctx context.Context, id int64, at time.Time) error
	// APIKeyTouch records that key id was used at at.
	APIKeyTouch(ctx context.Context, id int64, at time.Time) error

	// SettingInit stores value under name unless a value is stored
	// already, and returns the stored value: the first writer wins, across
	// processes.
	SettingInit(ctx context.Context, name, value string) (string, error)

	// IdempotencyClaim creates the record of p unless a live one exists for
	// its scope and key, which it returns instead (nil when claimed).
	IdempotencyClaim(ctx context.Context, p *IdempotencyClaimParams) (*IdempotencyRecord, error)
	// IdempotencyComplete stores the result of a claimed record.
	IdempotencyComplete(ctx context.Context, r *IdempotencyRecord) error
	// IdempotencyPurge deletes records created before before.
	IdempotencyPurge(ctx context.Context, before time.Time) (int, error)

	// UserList returns a page of users (with groups and companies).
	UserList(ctx context.Context, p *UserListParams) ([]User, error)
	// GroupList returns every group that has members, by name.
	GroupList(ctx context.Context) ([]Group, error)
	// GroupSetMembers makes p.UserIDs exactly the members of p.Group. An
	// unknown user is a *FieldError on "user_ids".
	GroupSetMembers(ctx context.Context, p *GroupSetMembersParams) error
	// GroupDelete removes every member of group and returns how many;
	// ErrNotFound when it had none.
	GroupDelete(ctx context.Context, group string) (int, error)

	// DeliveryStates counts the deliveries of an event per state (every
	// state present, zero included).
	DeliveryStates(ctx context.Context, eventID int64) (map[DeliveryState]int, error)

	// MonitorStats computes monitoring figures as of now.
	MonitorStats(ctx context.Context, now time.Time) (*MonitorStats, error)
}

// CountDeliveries fills DeliveriesByState and DeliveriesByChannel from
// rows of (channel, state, count); both backends share it.
func (m *MonitorStats) CountDeliveries(channel, state string, n int) {
	if m.DeliveriesByState == nil {
		m.DeliveriesByState = ZeroStates()
	}
	if m.DeliveriesByChannel == nil {
		m.DeliveriesByChannel = map[string]map[DeliveryState]int{}
	}
	m.DeliveriesByState[DeliveryState(state)] += n
	byState := m.DeliveriesByChannel[channel]
	if byState == nil {
		byState = ZeroStates()
		m.DeliveriesByChannel[channel] = byState
	}
	byState[DeliveryState(state)] += n
}

// ZeroStates is a count of deliveries per state, every state at 0.
func ZeroStates() map[DeliveryState]int {
	out := make(map[DeliveryState]int, len(DeliveryStates))
	for _, s := range DeliveryStates {
		out[s] = 0
	}
	return out
}

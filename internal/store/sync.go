package store

import (
	"context"
	"time"
)

// DirectorySyncParams is a host's whole directory, each row already
// checked: DirectorySync brings the store to exactly that state.
type DirectorySyncParams struct {
	// SyncCompanies: Companies is every company; those the store holds
	// beyond it are deactivated. Without it, companies are left alone.
	SyncCompanies bool
	Companies     []*Company
	// SyncUsers: Users is every person, with their groups, companies and
	// follower; those the store holds beyond it are deactivated (never
	// deleted: their history stays). Without it, people are left alone.
	// A person's empty TimeZone keeps the stored one, as in UserUpsert.
	SyncUsers bool
	Users     []*User
	// At is the updated_at of what changes.
	At time.Time
}

// DirectorySyncCounts say what a sync did to one kind of row. Created,
// Updated and Unchanged add up to the rows given; Deactivated are rows
// the store held, active, that were not given.
type DirectorySyncCounts struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Deactivated int `json:"deactivated"`
	Unchanged   int `json:"unchanged"`
}

// DirectorySyncResult is what DirectorySync did.
type DirectorySyncResult struct {
	Users     DirectorySyncCounts
	Companies DirectorySyncCounts
}

// SyncQueries bring the directory to a snapshot.
type SyncQueries interface {
	// DirectorySync compares the snapshot with what the store holds in
	// the database itself (bulk loads and set operations, no round trip
	// per row) and writes only the differences: new rows, changed rows
	// (any field, or the set of groups or companies of a person), and
	// the deactivation of the rows missing. A follower or company named
	// that is neither in the snapshot nor in the store is a *FieldError
	// on "users[i].follower_id" or "users[i].companies". Run it inside
	// InTx: it is all or nothing.
	DirectorySync(ctx context.Context, p *DirectorySyncParams) (*DirectorySyncResult, error)
}

package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// GroupInput is a group of a snapshot and its members, for hosts whose
// groups list their people rather than the reverse.
type GroupInput struct {
	Name    string `json:"name"`
	Members []ID   `json:"members"`
}

// Snapshot is a host's whole directory. A section given (even empty) is
// the whole truth for its kind: what Cloche holds beyond it is
// deactivated, never deleted. A section left out (null) is left alone.
// A person's groups are those of their own "groups" and of the "groups"
// section that list them.
type Snapshot struct {
	Companies *[]CompanyInput `json:"companies"`
	Users     *[]UserInput    `json:"users"`
	Groups    *[]GroupInput   `json:"groups"`
}

// SyncCounts say what a sync did to one kind of row.
type SyncCounts = store.DirectorySyncCounts

// SyncStats are what a sync did: to people (at the top level), and to
// companies.
type SyncStats struct {
	SyncCounts
	Companies SyncCounts `json:"companies"`
}

// DecodeSnapshot reads a snapshot, rejecting unknown fields and text that
// is not UTF-8 (naming the field).
func DecodeSnapshot(r io.Reader) (*Snapshot, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("directory: sync: %w", err)
	}
	if err := store.CheckJSONText(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("directory: sync: %w", store.Invalid("file", "is not valid JSON of the snapshot shape {\"companies\": […], \"users\": […], \"groups\": […]}: %v", err))
	}
	return &s, nil
}

// CheckSnapshot validates every row of s as Check does, merges the groups
// section into the people's groups, and returns what to store.
func CheckSnapshot(s *Snapshot) (*store.DirectorySyncParams, error) {
	p := &store.DirectorySyncParams{}
	f := &File{}
	if s.Companies != nil {
		p.SyncCompanies, f.Companies = true, *s.Companies
	}
	if s.Users != nil {
		p.SyncUsers, f.Users = true, *s.Users
	}
	if s.Groups != nil && s.Users == nil {
		return nil, fmt.Errorf("directory: sync: %w", store.Invalid("groups", "needs the users section: a snapshot's groups list people of its users"))
	}
	var err error
	if p.Companies, p.Users, err = Check(f); err != nil {
		return nil, fmt.Errorf("directory: sync: %w", err)
	}
	if s.Groups == nil {
		return p, nil
	}
	byID := make(map[string]*store.User, len(p.Users))
	for _, u := range p.Users {
		byID[u.ID] = u
	}
	seen := map[string]bool{}
	for i, g := range *s.Groups {
		field := fmt.Sprintf("groups[%d]", i)
		name := strings.TrimSpace(g.Name)
		if name == "" {
			return nil, fmt.Errorf("directory: sync: %w", store.Invalid(field+".name", "must not be empty"))
		}
		if err := store.CheckID(field+".name", name); err != nil {
			return nil, fmt.Errorf("directory: sync: %w", err)
		}
		if seen[name] {
			return nil, fmt.Errorf("directory: sync: %w", store.Invalid(field+".name", "%q appears twice in the snapshot", name))
		}
		seen[name] = true
		for j, m := range g.Members {
			u := byID[strings.TrimSpace(string(m))]
			if u == nil {
				return nil, fmt.Errorf("directory: sync: %w", store.Invalid(fmt.Sprintf("%s.members[%d]", field, j),
					"user %q is not in the snapshot's users", string(m)))
			}
			u.Groups = append(u.Groups, name)
		}
	}
	for _, u := range p.Users {
		u.Groups = dedupe(u.Groups)
	}
	return p, nil
}

// Sync brings the directory to exactly s in one transaction, comparing
// and writing in bulk in the database (store.SyncQueries), and says what
// changed. One bad row refuses it all, naming row and field. then, when
// not nil, runs last in the same transaction.
func Sync(ctx context.Context, st store.Store, s *Snapshot, now time.Time, then func(ctx context.Context, tx store.Tx) error) (*SyncStats, error) {
	p, err := CheckSnapshot(s)
	if err != nil {
		return nil, err
	}
	p.At = now
	var res *store.DirectorySyncResult
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if res, err = tx.DirectorySync(ctx, p); err != nil || then == nil {
			return err
		}
		return then(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("directory: sync: %w", err)
	}
	return &SyncStats{SyncCounts: res.Users, Companies: res.Companies}, nil
}

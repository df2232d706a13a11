package cloche

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cloche/cloche/internal/directory"
	"github.com/cloche/cloche/internal/store"
)

// User is a person of the host's directory, as stored.
type User = store.User

// Company is a company of the host's directory, as stored.
type Company = store.Company

// UserInput is a user as hosts send it (ids may be JSON numbers; Active
// defaults to true; Locale to fr).
type UserInput = directory.UserInput

// CompanyInput is a company as hosts send it.
type CompanyInput = directory.CompanyInput

// DirectoryFile is the bulk import shape.
type DirectoryFile = directory.File

// ImportStats counts what an import wrote.
type ImportStats = directory.ImportStats

// ID is a directory id: a string, or a JSON number read as one.
type ID = directory.ID

// DirectorySnapshot is a host's whole directory (companies, users,
// groups): SyncDirectory brings Cloche to exactly it.
type DirectorySnapshot = directory.Snapshot

// GroupInput is a group of a snapshot and its members.
type GroupInput = directory.GroupInput

// SyncStats say what a sync changed: people created, updated,
// deactivated and unchanged, and the same for companies.
type SyncStats = directory.SyncStats

// SyncCounts say what a sync did to one kind of row.
type SyncCounts = directory.SyncCounts

// UpsertUser creates or replaces a user, with their groups, companies and
// follower.
func (s *Service) UpsertUser(ctx context.Context, in UserInput) (*User, error) {
	u, err := in.User("")
	if err != nil {
		return nil, err
	}
	// A change of zone moves the person's digests (in one transaction).
	err = s.store.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.UserUpsert(ctx, u); err != nil {
			return err
		}
		return s.rescheduleDigests(ctx, tx, []string{u.ID})
	})
	s.disp.DirectoryChanged()
	if err != nil {
		return nil, wrap(fmt.Sprintf("user %q", u.ID), err)
	}
	return s.User(ctx, u.ID)
}

// User returns one user.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	u, err := s.store.UserGet(ctx, id)
	return u, wrap(fmt.Sprintf("user %q", id), err)
}

// DeleteUser deletes a user; their notifications stay until purged.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if err := store.CheckID("id", id); err != nil {
		return err
	}
	err := s.store.UserDelete(ctx, id)
	s.disp.DirectoryChanged()
	return wrap(fmt.Sprintf("user %q", id), err)
}

// UpsertCompany creates or replaces a company.
func (s *Service) UpsertCompany(ctx context.Context, in CompanyInput) (*Company, error) {
	c, err := in.Company("")
	if err != nil {
		return nil, err
	}
	if err := s.store.CompanyUpsert(ctx, c); err != nil {
		return nil, wrap(fmt.Sprintf("company %q", c.ID), err)
	}
	return c, nil
}

// Company returns one company.
func (s *Service) Company(ctx context.Context, id string) (*Company, error) {
	if err := store.CheckID("id", id); err != nil {
		return nil, err
	}
	c, err := s.store.CompanyGet(ctx, id)
	return c, wrap(fmt.Sprintf("company %q", id), err)
}

// DeleteCompany deletes a company and its memberships.
func (s *Service) DeleteCompany(ctx context.Context, id string) error {
	if err := store.CheckID("id", id); err != nil {
		return err
	}
	return wrap(fmt.Sprintf("company %q", id), s.store.CompanyDelete(ctx, id))
}

// ImportDirectory reads a JSON import file and writes it in one
// transaction; one bad row rejects the whole file, naming row and field.
func (s *Service) ImportDirectory(ctx context.Context, r io.Reader) (*ImportStats, error) {
	f, err := directory.Decode(r)
	if err != nil {
		return nil, err
	}
	return s.Import(ctx, f)
}

// Import writes an already decoded directory file in one transaction.
func (s *Service) Import(ctx context.Context, f *DirectoryFile) (*ImportStats, error) {
	// Notify's planning remembers the users it found (a second at most):
	// it forgets them when they change here.
	defer s.disp.DirectoryChanged()
	// A change of zone moves the people's digests, in the same transaction.
	st, err := directory.Import(ctx, s.store, f, s.rescheduleDigests)
	if err == nil {
		s.directoryWritten(ctx, st.Users+st.Companies)
	}
	return st, err
}

// SyncDirectoryFrom reads a JSON snapshot and syncs it (SyncDirectory).
func (s *Service) SyncDirectoryFrom(ctx context.Context, r io.Reader) (*SyncStats, error) {
	snap, err := directory.DecodeSnapshot(r)
	if err != nil {
		return nil, err
	}
	return s.SyncDirectory(ctx, snap)
}

// SyncDirectory brings the directory to exactly snap, in one transaction:
// people and companies of snap are created or updated where they differ,
// those Cloche holds beyond a section given are deactivated (never
// deleted: their history stays), and a section left out (nil) is left
// alone. The comparison happens in the database, in bulk: a sync of
// 100,000 people of whom a few changed takes a few seconds.
func (s *Service) SyncDirectory(ctx context.Context, snap *DirectorySnapshot) (*SyncStats, error) {
	defer s.disp.DirectoryChanged()
	// A change of zone moves the people's digests, in the same
	// transaction: everybody's who has a schedule (few people).
	st, err := directory.Sync(ctx, s.store, snap, s.disp.Now(), func(ctx context.Context, tx store.Tx) error {
		return s.rescheduleDigests(ctx, tx, nil)
	})
	if err == nil {
		written := func(c SyncCounts) int { return c.Created + c.Updated + c.Deactivated }
		s.directoryWritten(ctx, written(st.SyncCounts)+written(st.Companies))
	}
	return st, err
}

// directoryWritten gathers the directory's statistics after a bulk write
// where the store needs it (store.StatsGatherer): the notifies that follow
// an import are planned for the directory imported, not for empty tables.
// The write is committed: a failure here is only logged (autovacuum will
// come).
func (s *Service) directoryWritten(ctx context.Context, rows int) {
	g, ok := s.store.(store.StatsGatherer)
	if !ok {
		return
	}
	if err := g.DirectoryWritten(context.WithoutCancel(ctx), rows); err != nil {
		s.logger.WarnContext(ctx, "directory written, its statistics not gathered", "err", err)
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

func cmpOr[T comparable](vals ...T) T { return cmp.Or(vals...) }

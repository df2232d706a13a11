package dispatch

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cloche/cloche/internal/store"
)

// batchTx is a transaction publishing a batch of due events: the types
// and preference summaries it reads are read once per key, since nothing
// in the batch changes them. The jobs queue reaches the transaction
// beneath through Unwrap.
type batchTx struct {
	store.Tx
	types map[string]*store.NotificationType
	sums  map[string]*store.PreferenceSummary
	// events are the batch's events, read in one query, each handed out
	// once by EventGet.
	events map[int64]*store.Event
	// dir is what preload read of the directory for the whole batch.
	dir *batchDirectory
}

// batchDirectory is what the events of a batch name of the directory,
// read once for all of them (preload): the users their user_ids name and
// whether their groups have active members, and the companies read so
// far. Nothing in the batch writes the directory.
type batchDirectory struct {
	users      map[string]store.Contact // found, by id
	usersAsked map[string]bool          // asked, found or not
	groups     map[string]bool          // GroupsActive's answers
	groupsAsk  map[string]bool
	companies  map[string]companyRead
	members    map[string][]store.Contact // CompanyContacts' answers
}

// companyRead is a company as CompanyGet read it: the company, or
// store.ErrNotFound.
type companyRead struct {
	c   *store.Company
	err error
}

func newBatchTx(tx store.Tx) *batchTx {
	return &batchTx{Tx: tx, types: map[string]*store.NotificationType{}, sums: map[string]*store.PreferenceSummary{},
		dir: &batchDirectory{companies: map[string]companyRead{}, members: map[string][]store.Contact{}}}
}

// preload reads the events of ids in one query.
func (b *batchTx) preload(ctx context.Context, ids []int64) error {
	evs, err := b.Tx.EventGetMany(ctx, ids)
	if err != nil {
		return err
	}
	b.events = make(map[int64]*store.Event, len(evs))
	var users, groups []string
	for i := range evs {
		b.events[evs[i].ID] = &evs[i]
		if evs[i].Status == store.EventPending {
			users = append(users, evs[i].Recipients.UserIDs...)
			groups = append(groups, evs[i].Recipients.GroupNames...)
		}
	}
	return b.preloadDirectory(ctx, store.Dedupe(users), store.Dedupe(groups))
}

// preloadDirectory reads the users and groups the batch names, each in
// one query.
func (b *batchTx) preloadDirectory(ctx context.Context, users, groups []string) error {
	d := b.dir
	if len(users) > 0 {
		cs, err := b.Tx.UserContacts(ctx, users)
		if err != nil {
			return err
		}
		d.users, d.usersAsked = make(map[string]store.Contact, len(cs)), make(map[string]bool, len(users))
		for _, id := range users {
			d.usersAsked[id] = true
		}
		for _, c := range cs {
			d.users[c.UserID] = c
		}
	}
	if len(groups) > 0 {
		active, err := b.Tx.GroupsActive(ctx, groups)
		if err != nil {
			return err
		}
		d.groups, d.groupsAsk = active, make(map[string]bool, len(groups))
		for _, g := range groups {
			d.groupsAsk[g] = true
		}
	}
	return nil
}

// UserContacts answers from what preload read when it asked for every
// one of ids (in id order, as the store does).
func (b *batchTx) UserContacts(ctx context.Context, ids []string) ([]store.Contact, error) {
	d := b.dir
	out := make([]store.Contact, 0, len(ids))
	for _, id := range store.Dedupe(ids) {
		if !d.usersAsked[id] {
			return b.Tx.UserContacts(ctx, ids)
		}
		if c, ok := d.users[id]; ok {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.Contact) int { return strings.Compare(a.UserID, b.UserID) })
	return out, nil
}

// GroupsActive answers from what preload read when it asked for every
// one of groups.
func (b *batchTx) GroupsActive(ctx context.Context, groups []string) (map[string]bool, error) {
	d := b.dir
	out := make(map[string]bool, len(groups))
	for _, g := range groups {
		if !d.groupsAsk[g] {
			return b.Tx.GroupsActive(ctx, groups)
		}
		if live, ok := d.groups[g]; ok {
			out[g] = live
		}
	}
	return out, nil
}

// CompanyGet reads each company once per batch.
func (b *batchTx) CompanyGet(ctx context.Context, id string) (*store.Company, error) {
	r, ok := b.dir.companies[id]
	if !ok {
		r.c, r.err = b.Tx.CompanyGet(ctx, id)
		if r.err != nil && !errors.Is(r.err, store.ErrNotFound) {
			return nil, r.err
		}
		b.dir.companies[id] = r
	}
	if r.err != nil {
		return nil, r.err
	}
	c := *r.c
	return &c, nil
}

// CompanyContacts reads each company's active members once per batch.
func (b *batchTx) CompanyContacts(ctx context.Context, id string) ([]store.Contact, error) {
	cs, ok := b.dir.members[id]
	if !ok {
		var err error
		if cs, err = b.Tx.CompanyContacts(ctx, id); err != nil {
			return nil, err
		}
		b.dir.members[id] = cs
	}
	return slices.Clone(cs), nil
}

func (b *batchTx) EventGet(ctx context.Context, id int64) (*store.Event, error) {
	if ev, ok := b.events[id]; ok {
		delete(b.events, id)
		return ev, nil
	}
	return b.Tx.EventGet(ctx, id)
}

// Unwrap is the transaction beneath.
func (b *batchTx) Unwrap() store.Tx { return b.Tx }

func (b *batchTx) TypeGet(ctx context.Context, key string) (*store.NotificationType, error) {
	if t, ok := b.types[key]; ok {
		c := *t
		return &c, nil
	}
	t, err := b.Tx.TypeGet(ctx, key)
	if err != nil {
		return nil, err
	}
	c := *t
	b.types[key] = &c
	return t, nil
}

func (b *batchTx) PreferenceSummary(ctx context.Context, key string) (*store.PreferenceSummary, error) {
	if s, ok := b.sums[key]; ok {
		return s, nil
	}
	s, err := b.Tx.PreferenceSummary(ctx, key)
	if err != nil {
		return nil, err
	}
	b.sums[key] = s
	return s, nil
}

// Savepoint runs fn in a savepoint of the transaction beneath, still
// through the memory of the batch.
func (b *batchTx) Savepoint(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return b.Tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, &batchTx{Tx: tx, types: b.types, sums: b.sums, dir: b.dir})
	})
}

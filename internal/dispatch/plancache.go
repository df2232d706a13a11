package dispatch

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// planTTL bounds how long what Notify's planning read outside the write
// transaction is reused. This process's changes drop it at once
// (TypesChanged, DirectoryChanged); another process's are seen within
// planTTL.
//
// The planning is a hint that saves the writer reads: the transaction
// still decides. A notify whose type is gone fails on the type's foreign
// key ("unknown notification type"); the fan-out joins the users again,
// so a user made inactive or deleted gets nothing. At worst, for planTTL,
// a result's unknown_user_ids misses a user another process just deleted.
const planTTL = time.Second

// Bounds of the memories.
const (
	maxTypes    = 1000
	maxContacts = 100000
)

// typeCache keeps the default channels of the types planning read lately,
// so that a burst of notifies reads each type once. Only found types are
// kept: a notify that finds none reads again inside its transaction.
type typeCache struct {
	mu sync.Mutex
	m  map[string]cached[store.Channel]
}

// cached is a value and its end, by the monotonic clock (whatever the
// service's clock says).
type cached[T any] struct {
	v     T
	until time.Time
}

func (c *typeCache) channel(ctx context.Context, q store.Queries, key string) (store.Channel, error) {
	now := time.Now()
	c.mu.Lock()
	t, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(t.until) {
		return t.v, nil
	}
	typ, err := q.TypeGet(ctx, key)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxTypes {
		c.m = map[string]cached[store.Channel]{}
	}
	c.m[key] = cached[store.Channel]{v: typ.DefaultChannel, until: now.Add(planTTL)}
	c.mu.Unlock()
	return typ.DefaultChannel, nil
}

func (c *typeCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// contactCache keeps the users planning found lately (a host notifies the
// same people again and again). Only found users are kept: one the
// directory does not hold is looked for at every notify.
type contactCache struct {
	mu sync.Mutex
	m  map[string]cached[store.Contact]
}

// plannerQueries reads through the planning's memories.
type plannerQueries struct {
	store.Queries
	contacts *contactCache
}

// UserContacts answers from memory when every user is there, else reads
// them all (in id order, as the store does).
func (p plannerQueries) UserContacts(ctx context.Context, ids []string) ([]store.Contact, error) {
	c := p.contacts
	now := time.Now()
	out := make([]store.Contact, 0, len(ids))
	c.mu.Lock()
	for _, id := range store.Dedupe(ids) {
		e, ok := c.m[id]
		if !ok || !now.Before(e.until) {
			out = nil
			break
		}
		out = append(out, e.v)
	}
	c.mu.Unlock()
	if out != nil {
		slices.SortFunc(out, func(a, b store.Contact) int { return strings.Compare(a.UserID, b.UserID) })
		return out, nil
	}
	found, err := p.Queries.UserContacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m)+len(found) > maxContacts {
		c.m = map[string]cached[store.Contact]{}
	}
	for _, f := range found {
		c.m[f.UserID] = cached[store.Contact]{v: f, until: now.Add(planTTL)}
	}
	c.mu.Unlock()
	return found, nil
}

func (c *contactCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// TypesChanged tells the dispatcher that notification types were written:
// what it remembers of them is dropped.
func (d *Dispatcher) TypesChanged() { d.types.clear() }

// DirectoryChanged tells the dispatcher that users, groups or companies
// were written: what it remembers of them is dropped.
func (d *Dispatcher) DirectoryChanged() { d.contacts.clear() }

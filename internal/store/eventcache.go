package store

import (
	"context"
	"sync"
	"time"
)

// EventCache keeps what inbox items show of their events, so that a page
// of an inbox reads the notifications' own rows from the inbox index and
// only the events it has not met yet, once each, instead of joining every
// row to its event and its type at every read (issue 14, "Cold inbox
// reads"). A nil *EventCache keeps nothing: every read loads.
//
// An event's shown fields (key, title, body, context, URL, actions) never
// change once it is written, and events are never deleted: a kept event is
// never stale, whether this process or another one reads the database.
// A type's status mark can change (TypeUpsert): the marks of every type (a
// few dozen rows) are read together and kept for StatusTypesTTL. This
// process's changes drop them at once (TypesChanged); another process's
// are seen within the TTL, as the notify planning's types are.
type EventCache struct {
	mu     sync.Mutex
	events map[int64]EventFields // StatusType left empty
	types  map[string]StatusType
	// typesUntil ends the marks' life, by the monotonic clock.
	typesUntil time.Time
}

// StatusTypesTTL bounds how long the types' status marks are kept.
const StatusTypesTTL = time.Second

// maxCachedEvents bounds the events kept: the pages read at a time show
// the latest events, which a fan-out shares among its recipients.
const maxCachedEvents = 4096

// NewEventCache returns an empty cache.
func NewEventCache() *EventCache {
	return &EventCache{events: map[int64]EventFields{}}
}

// EventLoader reads the shown fields of the events ids, with their status
// marks; an event that is not there is left out.
type EventLoader func(ctx context.Context, ids []int64) (map[int64]EventFields, error)

// StatusTypeLoader reads the status mark of every notification type.
type StatusTypeLoader func(ctx context.Context) (map[string]StatusType, error)

// TypesChanged drops the kept status marks: a type was written.
func (c *EventCache) TypesChanged() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.types = nil
	c.mu.Unlock()
}

// Fill sets each item's event fields, in place, loading the events not
// kept (and the status marks, when they are old) with the loaders; items
// whose event is not there are left out, as a join would.
func (c *EventCache) Fill(ctx context.Context, items []InboxItem, events EventLoader, types StatusTypeLoader) ([]InboxItem, error) {
	if len(items) == 0 {
		return items, nil
	}
	if c == nil {
		found, err := events(ctx, DistinctEventIDs(items))
		if err != nil {
			return nil, err
		}
		return FillEventFields(items, found), nil
	}
	now := time.Now()
	var missing []int64
	c.mu.Lock()
	for _, it := range items {
		if _, ok := c.events[it.EventID]; !ok && !containsID(missing, it.EventID) {
			missing = append(missing, it.EventID)
		}
	}
	marks := c.types
	if !now.Before(c.typesUntil) {
		marks = nil
	}
	c.mu.Unlock()

	var loaded map[int64]EventFields
	if len(missing) > 0 {
		var err error
		if loaded, err = events(ctx, missing); err != nil {
			return nil, err
		}
	}
	if marks == nil || !hasMarks(marks, loaded) {
		m, err := types(ctx)
		if err != nil {
			return nil, err
		}
		marks = m
		c.mu.Lock()
		c.types, c.typesUntil = m, now.Add(StatusTypesTTL)
		c.mu.Unlock()
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range loaded {
		if len(c.events) >= maxCachedEvents {
			for old := range c.events { // an arbitrary one: map order is random
				delete(c.events, old)
				break
			}
		}
		e.StatusType = ""
		c.events[id] = e
	}
	out := items[:0]
	for _, it := range items {
		e, ok := c.events[it.EventID]
		if !ok {
			if e, ok = loaded[it.EventID]; !ok {
				continue
			}
		}
		it.Key, it.Title, it.Body = e.Key, e.Title, e.Body
		it.ContextType, it.ContextID = e.ContextType, e.ContextID
		it.URL, it.Actions = e.URL, e.Actions
		it.StatusType = marks[e.Key]
		if it.StatusType == "" {
			it.StatusType = StatusNeutral
		}
		out = append(out, it)
	}
	return out, nil
}

// hasMarks reports whether marks holds the type of every event loaded: a
// type created since they were read is not there. (Those of the events
// kept are: a type that events use is never deleted.)
func hasMarks(marks map[string]StatusType, loaded map[int64]EventFields) bool {
	for _, e := range loaded {
		if _, ok := marks[e.Key]; !ok {
			return false
		}
	}
	return true
}

func containsID(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

package inboxcache

import (
	"bytes"
	"compress/gzip"
	"hash/maphash"
	"sync"
	"time"
)

// shards spreads users over locks, so that concurrent readers rarely wait
// for each other.
const shards = 64

// Cache maps (user, query) to an encoded answer. The zero value is not
// usable; create one with New. A nil *Cache caches nothing.
type Cache struct {
	ttl      time.Duration
	perShard int // most users kept per shard
	seed     maphash.Seed
	shards   [shards]shard
	gzips    sync.Pool // of *gzip.Writer
}

type shard struct {
	mu sync.Mutex
	// gen counts the invalidations that touched this shard; a Put whose
	// Begin saw an older one is dropped.
	gen   uint64
	users map[string]*userEntry
}

// userEntry holds one user's answers, by query.
type userEntry struct {
	answers map[string]answer
}

type answer struct {
	Answer
	until time.Time
}

// Answer is a kept answer: its body, and the same gzipped when it is big
// enough for that to pay (most clients accept gzip, and a page of 20
// notifications, 6 KB, then leaves in one write instead of two).
type Answer struct {
	Body []byte
	Gzip []byte // nil when not worth it
}

// gzipMin is the smallest body kept gzipped too.
const gzipMin = 1024

func (c *Cache) newAnswer(body []byte) Answer {
	a := Answer{Body: body}
	if len(body) < gzipMin {
		return a
	}
	// A gzip writer holds about a megabyte of state: one per answer would
	// keep the collector busy.
	zw, _ := c.gzips.Get().(*gzip.Writer)
	var buf bytes.Buffer
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(&buf, gzip.BestSpeed); err != nil {
			return a
		}
	} else {
		zw.Reset(&buf)
	}
	defer c.gzips.Put(zw)
	if _, err := zw.Write(body); err != nil || zw.Close() != nil {
		return a
	}
	if buf.Len() < len(body) {
		a.Gzip = buf.Bytes()
	}
	return a
}

// New returns a cache whose answers live at most ttl, holding at most
// about maxUsers users (beyond, arbitrary users are forgotten). A ttl of
// zero or less returns nil: no caching.
func New(ttl time.Duration, maxUsers int) *Cache {
	if ttl <= 0 {
		return nil
	}
	c := &Cache{ttl: ttl, perShard: max(1, maxUsers/shards), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].users = map[string]*userEntry{}
	}
	return c
}

func (c *Cache) shard(user string) *shard {
	return &c.shards[maphash.String(c.seed, user)%shards]
}

// Get returns the answer kept for user's query, if it is still valid at
// now.
func (c *Cache) Get(user, query string, now time.Time) (Answer, bool) {
	if c == nil {
		return Answer{}, false
	}
	s := c.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[user]
	if e == nil {
		return Answer{}, false
	}
	a, ok := e.answers[query]
	if !ok {
		return Answer{}, false
	}
	if !now.Before(a.until) {
		delete(e.answers, query)
		return Answer{}, false
	}
	return a.Answer, true
}

// Ticket is taken before reading an answer from the database, and given
// back to Put with it.
type Ticket struct {
	user string
	gen  uint64
}

// Begin notes where user's invalidations stand, before a database read.
func (c *Cache) Begin(user string) Ticket {
	if c == nil {
		return Ticket{}
	}
	s := c.shard(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	return Ticket{user: user, gen: s.gen}
}

// Put keeps body as the answer to the ticket's user's query, read at now,
// valid until the TTL or until (when not zero), whichever comes first. It
// keeps nothing if the user's inbox may have changed since Begin. body
// must not be modified afterwards. It returns the answer, gzipped too
// when that pays.
func (c *Cache) Put(t Ticket, query string, body []byte, now, until time.Time) Answer {
	if c == nil {
		return Answer{Body: body} // nothing kept: not worth compressing
	}
	a := c.newAnswer(body)
	exp := now.Add(c.ttl)
	if !until.IsZero() && until.Before(exp) {
		exp = until
	}
	s := c.shard(t.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != t.gen {
		return a
	}
	e := s.users[t.user]
	if e == nil {
		if len(s.users) >= c.perShard {
			for u := range s.users { // an arbitrary one: map order is random
				delete(s.users, u)
				break
			}
		}
		e = &userEntry{answers: make(map[string]answer, 2)}
		s.users[t.user] = e
	}
	e.answers[query] = answer{Answer: a, until: exp}
	return a
}

// Invalidate forgets the answers of users.
func (c *Cache) Invalidate(users ...string) {
	if c == nil {
		return
	}
	for _, u := range users {
		s := c.shard(u)
		s.mu.Lock()
		s.gen++
		delete(s.users, u)
		s.mu.Unlock()
	}
}

// InvalidateAll forgets every answer.
func (c *Cache) InvalidateAll() {
	if c == nil {
		return
	}
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		s.gen++
		clear(s.users)
		s.mu.Unlock()
	}
}

// Len is the number of users with answers kept (tests, metrics).
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.users)
		s.mu.Unlock()
	}
	return n
}

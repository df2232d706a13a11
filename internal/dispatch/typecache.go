package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// typeTTL bounds how long a type read outside a transaction is reused.
// This process's changes to types drop it at once (TypesChanged); another
// process's are seen within typeTTL.
const typeTTL = time.Second

// typeCache keeps the default channels of the types Notify's planning
// read lately, so that a burst of notifies reads each type once. Only the
// planning outside the write transaction uses it: a notify that finds no
// type there reads again inside its transaction, which decides.
type typeCache struct {
	mu sync.Mutex
	m  map[string]cachedType
}

type cachedType struct {
	channel store.Channel
	until   time.Time // by the monotonic clock, whatever the service's clock says
}

func (c *typeCache) channel(ctx context.Context, q store.Queries, key string) (store.Channel, error) {
	now := time.Now()
	c.mu.Lock()
	t, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(t.until) {
		return t.channel, nil
	}
	typ, err := q.TypeGet(ctx, key)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedType{}
	}
	c.m[key] = cachedType{channel: typ.DefaultChannel, until: now.Add(typeTTL)}
	c.mu.Unlock()
	return typ.DefaultChannel, nil
}

func (c *typeCache) clear() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// TypesChanged tells the dispatcher that notification types were written:
// what it remembers of them is dropped.
func (d *Dispatcher) TypesChanged() { d.types.clear() }

package realtime

import (
	"context"
	"sync"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// countsBatch gathers who needs unread counts read: the users whose
// notifications were just delivered (their streams get the counts in a
// message of their own, right after the items), and new streams (which
// also need the feed's head to start from). One goroutine at a time reads
// them all in one read transaction, so that 10,000 streams opening at once
// or one notification to 10,000 people cost one query, not 10,000, and
// the items of a delivery do not wait for the counts.
type countsBatch struct {
	mu      sync.Mutex
	users   map[string]struct{}
	fresh   []*freshRequest
	running bool
	// freshWake is signalled when a new stream asks: a reader waiting
	// for a delivery's writes reads at once instead.
	freshWake chan struct{}
	// wake is signalled when there is more to read: the reader lingers
	// for a while (countsLinger) before it ends, so that a burst of new
	// streams does not start one goroutine per batch, each growing its
	// stack down the database's calls again.
	wake chan struct{}
}

// countsLinger is how long the reader waits for more before it ends.
const countsLinger = time.Second

// freshRequest is a new stream's: the feed's head and its user's counts.
type freshRequest struct {
	userID string
	reply  chan freshReply // buffered: the reader never blocks
}

type freshReply struct {
	head   store.FeedHead
	at     time.Time
	counts map[store.Channel]int
	seq    uint64
	err    error
}

// countsTimeout bounds one read of the batch.
const countsTimeout = time.Minute

// countsWait bounds how long the counts read after a delivery wait for
// its writes to be done: reading 10,000 users' counts takes as much CPU
// as a tenth of their writes, which the clients wait for, while the
// counts themselves only confirm what went with the items.
const countsWait = 2 * time.Second

// countsLater has the streams of users get their counts, read after what
// was just handed to them.
func (h *Hub) countsLater(users []string) {
	if len(users) == 0 {
		return
	}
	b := &h.counts
	b.mu.Lock()
	if b.users == nil {
		b.users = make(map[string]struct{}, len(users))
	}
	for _, u := range users {
		b.users[u] = struct{}{}
	}
	start := !b.running
	b.running = true
	b.mu.Unlock()
	h.startCounts(start)
}

// startCounts starts the reader when start is set, else wakes it.
func (h *Hub) startCounts(start bool) {
	if start {
		go h.readCounts()
		return
	}
	select {
	case h.counts.wake <- struct{}{}:
	default:
	}
}

// freshCounts returns the feed's head and userID's counts, read together
// with those of the other streams opening meanwhile.
func (h *Hub) freshCounts(ctx context.Context, userID string) (freshReply, error) {
	req := &freshRequest{userID: userID, reply: make(chan freshReply, 1)}
	b := &h.counts
	b.mu.Lock()
	b.fresh = append(b.fresh, req)
	start := !b.running
	b.running = true
	b.mu.Unlock()
	select {
	case b.freshWake <- struct{}{}:
	default:
	}
	h.startCounts(start)
	select {
	case r := <-req.reply:
		return r, r.err
	case <-ctx.Done():
		return freshReply{}, ctx.Err()
	}
}

// readCounts reads the counts asked for until nobody has asked for any
// for countsLinger.
func (h *Hub) readCounts() {
	b := &h.counts
	var linger *time.Timer
	for {
		b.mu.Lock()
		users, fresh := b.users, b.fresh
		b.users, b.fresh = nil, nil
		if len(users) == 0 && len(fresh) == 0 {
			b.mu.Unlock()
			if linger == nil {
				linger = time.NewTimer(countsLinger)
			} else {
				linger.Reset(countsLinger)
			}
			select {
			case <-b.wake:
				continue
			case <-linger.C:
			}
			b.mu.Lock()
			if len(b.users) == 0 && len(b.fresh) == 0 {
				b.running = false
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			continue
		}
		b.mu.Unlock()
		if len(fresh) == 0 && h.waitWritten() {
			// New streams asked meanwhile: read theirs with these.
			b.mu.Lock()
			fresh, b.fresh = b.fresh, nil
			b.mu.Unlock()
		}
		h.readCountsOnce(users, fresh)
	}
}

// waitWritten waits, countsWait at most, until the streams have written
// what was handed to them, or a new stream asks for counts (then it
// reports true).
func (h *Hub) waitWritten() (fresh bool) {
	if h.queued.Load() <= 0 {
		return false
	}
	t := time.NewTimer(countsWait)
	defer t.Stop()
	for h.queued.Load() > 0 {
		select {
		case <-h.drained:
		case <-h.counts.freshWake:
			return true
		case <-t.C:
			return false
		}
	}
	return false
}

func (h *Hub) readCountsOnce(users map[string]struct{}, fresh []*freshRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), countsTimeout)
	defer cancel()
	all := make([]string, 0, len(users)+len(fresh))
	for u := range users {
		all = append(all, u)
	}
	asked := make(map[string]bool, len(fresh))
	for _, r := range fresh {
		if _, ok := users[r.userID]; !ok && !asked[r.userID] {
			asked[r.userID] = true
			all = append(all, r.userID)
		}
	}
	seq := h.countsSeq.Add(1)
	var head store.FeedHead
	var at time.Time
	var counts map[string]map[store.Channel]int
	err := h.st.ReadTx(ctx, func(ctx context.Context, q store.Queries) error {
		var err error
		if len(fresh) > 0 {
			if head, err = q.FeedHead(ctx); err != nil {
				return err
			}
			at = h.cfg.Clock().UTC().Truncate(time.Microsecond)
		}
		counts, err = q.NotificationCountUnreadMany(ctx, all, h.cfg.Clock())
		return err
	})
	for _, r := range fresh {
		r.reply <- freshReply{head: head, at: at, counts: counts[r.userID], seq: seq, err: err}
	}
	if err != nil {
		h.logger.WarnContext(ctx, "realtime: read unread counts", "err", err)
		// The streams waiting for them catch up from the database.
		h.mu.Lock()
		for u := range users {
			for s := range h.users[u] {
				s.markLagged()
			}
		}
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for u := range users {
		if len(h.users[u]) == 0 {
			continue
		}
		m := &message{counts: counts[u], countsEncoded: appendCounts(nil, counts[u]), seq: seq, followUp: true}
		for s := range h.users[u] {
			s.send(m)
		}
	}
}

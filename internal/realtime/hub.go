package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Config tunes a Hub. Zero fields take their defaults.
type Config struct {
	// KeepAlive is the interval of the comments that keep idle streams
	// open through proxies. Default 15s.
	KeepAlive time.Duration
	// PollInterval is how often a hub on a store without a push channel
	// (SQLite) looks for what other processes wrote while streams are
	// open (with none, once a second); what this process writes is seen at
	// once (Wake). Default 250ms.
	PollInterval time.Duration
	// Retry is the reconnection delay suggested to clients; each stream
	// gets a value between Retry and twice as much, so that the clients
	// of a restarted server do not all come back at once. Default 3s.
	Retry time.Duration
	// ResumeWindow is how far before its cursor a resuming stream looks
	// for notifications (PostgreSQL, where they may commit out of id
	// order): the longest a notify transaction may run, plus clock skew
	// between the processes that write. Default 1m.
	ResumeWindow time.Duration
	// Retention is how long a cursor can be resumed: the change log is
	// purged after the read retention. Older cursors get a reset event.
	// Default 90 days.
	Retention time.Duration
	// MaxStreams caps the open streams of this hub (0: no cap); beyond
	// it ServeStream answers 503.
	MaxStreams int
	// MaxPerUser caps the open streams of one user (0: no cap); beyond it
	// ServeStream answers 429: one page's stream per tab is plenty, a
	// thousand is a leak or an attack.
	MaxPerUser int
	// Buffer is how many messages a stream may fall behind before it
	// catches up from the database instead. Default 64.
	Buffer int
	// Clock replaces time.Now (tests).
	Clock func() time.Time
	// Changed, when set, hears which users' in-app notifications the feed
	// brought news of (new ones, changes), from any process, before their
	// streams do; all means anyone's may have changed (a resync). Caches
	// of inbox reads drop those users. It must return quickly.
	Changed func(users []string, all bool)
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.KeepAlive, 15*time.Second)
	def(&c.PollInterval, 250*time.Millisecond)
	def(&c.Retry, 3*time.Second)
	def(&c.ResumeWindow, time.Minute)
	def(&c.Retention, 90*24*time.Hour)
	if c.Buffer <= 0 {
		c.Buffer = 64
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Limits of one read of the feed.
const (
	// feedBatch is the most rows (of notifications, of changes) one read
	// of a poll takes; a poll reads again until it has them all.
	feedBatch = 10000
	// filterUsers: with at most this many users subscribed, the hub asks
	// the database for their rows only; with more, it reads every row
	// and picks theirs.
	filterUsers = 500
	// feedChunk is the most notifications one read of a delivery takes:
	// the streams write a chunk's while the hub reads the next.
	feedChunk = 1000
	// maxPendingSignals bounds the signals waiting for the dispatcher;
	// beyond it they are dropped and every stream catches up instead.
	maxPendingSignals = 100000
)

// Hub dispatches the feed to the open streams. Create it with New, run it
// with Run; ServeStream serves one stream while it runs.
type Hub struct {
	st       store.Store
	listener store.FeedListener // nil: poll
	ordered  bool               // ids are assigned in commit order
	cfg      Config
	logger   *slog.Logger

	wake chan struct{}

	mu        sync.Mutex
	users     map[string]map[*subscriber]struct{}
	running   bool
	accepting bool
	// life ends when the streams must end (endLife); streams served off
	// their handler also do their database reads under it.
	life    context.Context
	endLife context.CancelFunc
	open    atomic.Int64

	// countsSeq orders unread counts: a stream never sends counts read
	// before those it already sent.
	countsSeq atomic.Uint64
	// counts gathers the unread counts to read (counts.go).
	counts countsBatch
	// queued counts the messages handed to streams and not written yet;
	// drained is signalled when it comes back to zero. The counts read
	// after a delivery wait for its writes (counts.go).
	queued  atomic.Int64
	drained chan struct{}

	// Signals heard by the listener, waiting for the dispatcher.
	sigMu   sync.Mutex
	pending []store.FeedSignal
	resync  bool
	sigWake chan struct{}
}

// New returns a Hub reading the feed of st. It does nothing until Run.
func New(st store.Store, cfg Config, logger *slog.Logger) (*Hub, error) {
	if st == nil {
		return nil, errors.New("realtime: no store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.defaults()
	h := &Hub{
		st:      st,
		cfg:     cfg,
		logger:  logger.With("component", "realtime"),
		wake:    make(chan struct{}, 1),
		users:   map[string]map[*subscriber]struct{}{},
		sigWake: make(chan struct{}, 1),
		drained: make(chan struct{}, 1),
	}
	h.counts.freshWake = make(chan struct{}, 1)
	h.counts.wake = make(chan struct{}, 1)
	h.life, h.endLife = context.WithCancel(context.Background())
	h.endLife() // no streams before Open or Run
	h.listener, _ = st.(store.FeedListener)
	h.ordered = h.listener == nil
	return h, nil
}

// Run reads the feed and dispatches it to the streams until ctx ends, then
// ends every stream and returns nil. Failures of the database are logged
// and retried.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.running {
		h.mu.Unlock()
		return errors.New("realtime: hub already running")
	}
	h.running = true
	h.openLocked()
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.running = false
		h.closeDoneLocked()
		h.mu.Unlock()
	}()
	if h.listener != nil {
		h.listen(ctx)
	} else {
		h.poll(ctx)
	}
	return nil
}

// Open makes the hub accept streams before Run starts (Run does it too),
// so that a server may serve them as soon as it is started; they catch up
// when Run begins.
func (h *Hub) Open() {
	h.mu.Lock()
	h.openLocked()
	h.mu.Unlock()
}

func (h *Hub) openLocked() {
	if !h.accepting {
		h.accepting = true
		h.life, h.endLife = context.WithCancel(context.Background())
	}
}

// Wake tells the hub that this process wrote to the feed, so that a
// polling hub looks now rather than at its next tick. It never blocks.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// OpenStreams is the number of streams being served.
func (h *Hub) OpenStreams() int { return int(h.open.Load()) }

// CloseStreams ends every open stream and refuses new ones until Run
// starts again. Clients reconnect (to another server, or to this one once
// restarted) with their last event id. Give it to http.Server's
// RegisterOnShutdown: Shutdown does not end streams by itself.
func (h *Hub) CloseStreams() {
	h.mu.Lock()
	h.closeDoneLocked()
	h.mu.Unlock()
}

// EndStreams ends every open stream now, as CloseStreams does, but goes
// on serving new ones: for an HTTP server that shuts down while the
// service goes on (streams served off their handlers are not waited for
// by http.Server.Shutdown). Every stream of the hub ends, whichever
// server it came through.
func (h *Hub) EndStreams() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.accepting {
		h.endLife()
		h.life, h.endLife = context.WithCancel(context.Background())
	}
}

func (h *Hub) closeDoneLocked() {
	if h.accepting {
		h.accepting = false
		h.endLife()
	}
}

// subscriber is one open stream, as the hub sees it.
type subscriber struct {
	hub    *Hub
	userID string
	msgs   chan *message
	// lagged is set when a message could not be queued, or the hub lost
	// track of the feed; the hub then sends nothing more until the stream
	// has caught up from the database.
	lagged atomic.Bool
	wakeup chan struct{}
	// gone is set when the hub found the stream's client gone (probe)
	// and dropped it; the stream ends at its next wakeup.
	gone atomic.Bool
	// probe, once the stream writes to its connection itself, tells
	// whether its client hung up (see conn.go).
	probe atomic.Pointer[rawConn]
}

// message is what the hub hands to a user's streams.
type message struct {
	items []store.InboxItem
	// encoded, when set, holds the JSON of each item, encoded once for
	// every stream.
	encoded [][]byte
	changes []store.NotificationChange
	counts  map[store.Channel]int
	// countsEncoded, when set, is the JSON of counts.
	countsEncoded []byte
	seq           uint64 // of counts
	// followUp: counts read after a delivery, sent only if the client
	// has other counts.
	followUp bool
}

// send queues m without blocking; a full queue makes the stream catch up.
func (s *subscriber) send(m *message) {
	if s.lagged.Load() {
		return
	}
	s.hub.queued.Add(1)
	select {
	case s.msgs <- m:
	default:
		s.written(1)
		s.markLagged()
	}
}

// written tells the hub that n messages queued were written (or dropped).
func (s *subscriber) written(n int) { s.hub.written(n) }

func (h *Hub) written(n int) {
	if h.queued.Add(-int64(n)) == 0 {
		select {
		case h.drained <- struct{}{}:
		default:
		}
	}
}

// delivering counts a delivery being read as a message queued, so that
// the counts read after its first part wait for the rest (see queued);
// call the function it returns when done.
func (h *Hub) delivering() func() {
	h.queued.Add(1)
	return func() { h.written(1) }
}

func (s *subscriber) markLagged() {
	s.lagged.Store(true)
	select {
	case s.wakeup <- struct{}{}:
	default:
	}
}

var (
	errNotRunning = errors.New("realtime: not running")
	errTooMany    = errors.New("realtime: too many open streams")
	errUserCap    = errors.New("realtime: too many open streams for one user")
)

// subscribe registers a stream of userID; life ends when it must end.
func (h *Hub) subscribe(userID string) (*subscriber, context.Context, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.accepting {
		return nil, nil, errNotRunning
	}
	if h.cfg.MaxStreams > 0 && h.open.Load() >= int64(h.cfg.MaxStreams) {
		return nil, nil, errTooMany
	}
	subs := h.users[userID]
	if h.cfg.MaxPerUser > 0 && len(subs) >= h.cfg.MaxPerUser {
		// Streams served off their handler learn that their client hung
		// up at their next keep-alive: ask the user's now.
		h.dropGoneLocked(subs)
		if subs = h.users[userID]; len(subs) >= h.cfg.MaxPerUser {
			return nil, nil, errUserCap
		}
	}
	s := &subscriber{hub: h, userID: userID, msgs: make(chan *message, h.cfg.Buffer), wakeup: make(chan struct{}, 1)}
	if subs == nil {
		subs = map[*subscriber]struct{}{}
		h.users[userID] = subs
	}
	subs[s] = struct{}{}
	if h.open.Add(1) == 1 {
		h.Wake() // a polling hub waiting its idle interval looks now, then at PollInterval
	}
	return s, h.life, nil
}

func (h *Hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.unsubscribeLocked(s)
}

func (h *Hub) unsubscribeLocked(s *subscriber) {
	subs := h.users[s.userID]
	if _, ok := subs[s]; !ok {
		return // dropped already
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(h.users, s.userID)
	}
	h.open.Add(-1)
	// Nothing is queued for it any more (sends hold h.mu): what was, is
	// not going to be written.
	for {
		select {
		case <-s.msgs:
			s.written(1)
		default:
			return
		}
	}
}

// dropGoneLocked unsubscribes those of subs whose client hung up, as
// far as a look at their connections tells, and wakes them to end.
func (h *Hub) dropGoneLocked(subs map[*subscriber]struct{}) {
	for s := range subs {
		if c := s.probe.Load(); c != nil && c.hungUp() {
			s.gone.Store(true)
			h.unsubscribeLocked(s)
			select {
			case s.wakeup <- struct{}{}:
			default:
			}
		}
	}
}

// subscribedUsers returns the users with open streams when there are at
// most filterUsers of them; all is true when there are more.
func (h *Hub) subscribedUsers() (users []string, all bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.users) > filterUsers {
		return nil, true
	}
	users = make([]string, 0, len(h.users))
	for u := range h.users {
		users = append(users, u)
	}
	return users, false
}

func (h *Hub) subscribed(userID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.users[userID] != nil
}

// resyncAll makes every stream catch up from the database.
func (h *Hub) resyncAll() {
	if h.cfg.Changed != nil {
		h.cfg.Changed(nil, true)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.users {
		for s := range subs {
			s.markLagged()
		}
	}
}

// prepare groups items and changes by subscribed user, each item
// encoded once: one message, so one write, per stream. send hands them
// out; the users' unread counts follow in a message of their own
// (countsLater), so that the items do not wait for them.
func (h *Hub) prepare(items []store.InboxItem, changes []store.NotificationChange) map[string]*message {
	if len(items) == 0 && len(changes) == 0 {
		return nil
	}
	h.announce(items, changes)
	byUser := map[string]*message{}
	get := func(user string) *message {
		m := byUser[user]
		if m == nil {
			m = &message{}
			byUser[user] = m
		}
		return m
	}
	var enc itemEncoder
	h.mu.Lock()
	for i := range items {
		it := &items[i]
		if h.users[it.UserID] != nil {
			m := get(it.UserID)
			if m.items == nil {
				// Most users have one item: theirs is a slice of items
				// (a second one, appended, copies it).
				m.items = items[i : i+1 : i+1]
			} else {
				m.items = append(m.items, *it)
			}
			m.encoded = append(m.encoded, enc.encode(it))
		}
	}
	for _, c := range changes {
		if h.users[c.UserID] != nil {
			m := get(c.UserID)
			m.changes = append(m.changes, c)
		}
	}
	h.mu.Unlock()
	if len(byUser) == 0 {
		return nil
	}
	return byUser
}

// announce tells Changed whose notifications items and changes are about.
func (h *Hub) announce(items []store.InboxItem, changes []store.NotificationChange) {
	if h.cfg.Changed == nil {
		return
	}
	seen := make(map[string]struct{}, len(items)+len(changes))
	users := make([]string, 0, len(items)+len(changes))
	add := func(u string) {
		if _, ok := seen[u]; !ok {
			seen[u] = struct{}{}
			users = append(users, u)
		}
	}
	for i := range items {
		add(items[i].UserID)
	}
	for i := range changes {
		add(changes[i].UserID)
	}
	h.cfg.Changed(users, false)
}

// watching reports whether the hub reads the feed for Changed even when
// no stream is open.
func (h *Hub) watching() bool { return h.cfg.Changed != nil }

// send hands each user's message to their streams, then has their counts
// read.
func (h *Hub) send(byUser map[string]*message) {
	if len(byUser) == 0 {
		return
	}
	users := make([]string, 0, len(byUser))
	h.mu.Lock()
	for user, m := range byUser {
		users = append(users, user)
		for s := range h.users[user] {
			s.send(m)
		}
	}
	h.mu.Unlock()
	h.countsLater(users)
}

package cloche

import (
	"context"
	"net/http"
	"sync"

	"github.com/cloche/cloche/internal/realtime"
	"github.com/cloche/cloche/internal/store"
)

// Streamer serves users' live streams of notifications (Server-Sent
// Events): new notifications, changes to them (read, unread, read all,
// postponed) and unread counts, from whichever process wrote them. See
// the README's "Live updates" for the events.
type Streamer interface {
	// ServeStream streams userID's notifications until the client goes
	// away or the service stops. The caller has authenticated the request
	// as userID. It resumes after the Last-Event-ID header, or the
	// last_event_id query parameter. On HTTP/1 it takes the connection
	// from net/http (Hijack) once the stream has begun, and returns: the
	// stream goes on, on a goroutine of its own, until the client goes,
	// CloseStreams or the service's Stop.
	ServeStream(w http.ResponseWriter, r *http.Request, userID string)
	// OpenStreams is the number of streams being served.
	OpenStreams() int
	// CloseStreams ends every stream now (clients reconnect with their
	// last event id) and refuses new ones until the service starts again.
	// http.Server.Shutdown does not end streams (it waits for those still
	// on their handlers, and does not know those it handed over): call it
	// when the server shuts down, or register it with RegisterOnShutdown.
	// (The service's Streamer also has EndStreams, which ends them but
	// goes on serving new ones: internal/httpapi's Shutdown calls it.)
	CloseStreams()
}

// NotificationChange is what a recipient did to notifications (the data of
// a stream's change events).
type NotificationChange = store.NotificationChange

// ChangeKind says what the change was: read, unread, read_all, postponed.
type ChangeKind = store.ChangeKind

// Streamer returns the service's live streams. They are served while the
// service is started (Start); otherwise ServeStream answers 503.
func (s *Service) Streamer() Streamer { return s.hub }

// liveRun is the hub's run between Start and Stop.
type liveRun struct {
	mu   sync.Mutex
	stop context.CancelFunc
	done chan struct{}
}

func (s *Service) initLive(o options) error {
	rt := s.cfg.Realtime
	hub, err := realtime.New(s.store, realtime.Config{
		KeepAlive:    rt.KeepAlive.D(),
		PollInterval: rt.PollInterval.D(),
		Retry:        rt.Retry.D(),
		ResumeWindow: rt.ResumeWindow.D(),
		Retention:    s.cfg.ReadRetention.D(),
		MaxStreams:   rt.MaxStreams,
		MaxPerUser:   rt.MaxStreamsPerUser,
		Clock:        o.clock,
		Changed:      s.inboxesChanged,
	}, s.logger)
	if err != nil {
		return err
	}
	s.hub = hub
	// A publication of this process reaches the streams at once.
	// Watchers hear of it first, so that a client told by its stream reads
	// the new state.
	s.disp.Observe(func(_ context.Context, ev *store.Event) {
		s.published(ev)
		hub.Wake()
	})
	return nil
}

// startLive runs the hub until stopLive.
func (s *Service) startLive(ctx context.Context) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	if s.live.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	s.live.stop, s.live.done = cancel, done
	s.hub.Open() // streams are served from now on
	go func() {
		defer close(done)
		_ = s.hub.Run(ctx)
	}()
}

// stopLive stops the hub, which ends every stream.
func (s *Service) stopLive() {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	if s.live.stop == nil {
		return
	}
	s.live.stop()
	<-s.live.done
	s.live.stop, s.live.done = nil, nil
}

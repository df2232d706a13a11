package httpapi

import (
	"context"
	"net/http"
)

// stream: GET /api/v1/me/stream, the user's Server-Sent Events, served by
// the Streamer. The stream ends when the client goes or the server shuts
// down. The realtime hub serves HTTP/1 streams off the handler, on the
// connection it takes: this returns once the stream has begun, and
// Shutdown ends them (EndStreams).
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// No goroutine per stream waiting for the shutdown: a callback.
	defer context.AfterFunc(s.closing, cancel)()
	s.streamer.ServeStream(w, r.WithContext(ctx), infoOf(r.Context()).userID)
	return nil
}

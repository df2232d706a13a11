package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/inboxcache"
)

// Streamer serves a user's Server-Sent Events stream (internal/realtime.Hub
// implements it).
type Streamer interface {
	ServeStream(w http.ResponseWriter, r *http.Request, userID string)
	OpenStreams() int // for the open-streams metric
}

// Options are what a Server is built from besides the service.
type Options struct {
	// Logger receives access logs and errors; nil drops them.
	Logger *slog.Logger
	// Registry, when set, receives the server's metrics and is served at
	// /metrics.
	Registry *prometheus.Registry
	// Streamer, when set, serves GET /api/v1/me/stream.
	Streamer Streamer
	// Mount registers more handlers beside the API on the server's router:
	// the console under /console/, the widget's script, the demo page.
	Mount []func(mux *http.ServeMux)
}

// Server is the HTTP API of one Service.
type Server struct {
	svc      *cloche.Service
	cfg      cloche.Config
	logger   *slog.Logger
	streamer Streamer
	metrics  *metrics
	limits   *limiters
	cors     corsPolicy
	inbox    *inboxcache.Cache // nil: off
	mux      *http.ServeMux
	routes   []route

	reqPrefix string
	reqSeq    atomic.Uint64

	httpSrv *http.Server
	// closing ends when Shutdown begins: streams end (stop closes it).
	closing     context.Context
	stopClosing context.CancelFunc
}

// access says who may call a route.
type access int

const (
	public   access = iota // anyone
	hostKey                // an API key
	userOnly               // a user token, in the Authorization header
	userSSE                // a user token, in the header or ?access_token= (EventSource sends no headers)
)

// route is one registered operation.
type route struct {
	method, path string
	access       access
	handle       func(w http.ResponseWriter, r *http.Request) error
	maxBody      int64 // 0: http.max_body_bytes
	stream       bool  // long-lived: no request timeout
	// cached: answered from memory most of the time; the handler bounds
	// its database work itself (Server.bounded) rather than paying for a
	// timer at every request.
	cached bool
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// New builds the server of svc, with its settings (svc.Config().HTTP).
func New(svc *cloche.Service, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := svc.Config()
	prefix := make([]byte, 4)
	if _, err := rand.Read(prefix); err != nil {
		return nil, fmt.Errorf("httpapi: %w", err)
	}
	s := &Server{
		svc:       svc,
		cfg:       cfg,
		logger:    logger,
		streamer:  opts.Streamer,
		limits:    newLimiters(cfg.HTTP.RateLimit),
		cors:      newCORSPolicy(cfg.HTTP.CORSOrigins),
		mux:       http.NewServeMux(),
		reqPrefix: hex.EncodeToString(prefix),
		inbox:     inboxcache.New(cfg.HTTP.InboxCache.TTL.D(), cfg.HTTP.InboxCache.MaxUsers),
	}
	s.closing, s.stopClosing = context.WithCancel(context.Background())
	if s.inbox != nil {
		svc.WatchInboxes(func(users []string, all bool) {
			if all {
				s.inbox.InvalidateAll()
				return
			}
			s.inbox.Invalidate(users...)
		})
	}
	if opts.Registry != nil {
		m, err := newMetrics(opts.Registry, svc, opts.Streamer, logger)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	s.routes = s.apiRoutes()
	for _, rt := range s.routes {
		s.mux.Handle(rt.pattern(), s.wrap(rt))
	}
	if s.metrics != nil {
		s.mux.Handle("GET /metrics", s.metrics.handler(opts.Registry))
	}
	for _, register := range opts.Mount {
		register(s.mux)
	}
	s.mux.HandleFunc("/", s.unmatched)
	s.httpSrv = &http.Server{
		Handler: s,
		// Each request has request_timeout to arrive and to be answered
		// (streams lift both); net/http sets the deadlines as it reads.
		ReadTimeout:       cfg.HTTP.RequestTimeout.D(),
		WriteTimeout:      cfg.HTTP.RequestTimeout.D() + 5*time.Second,
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout.D(),
		IdleTimeout:       cfg.HTTP.IdleTimeout.D(),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown; it returns nil then.
func (s *Server) Serve(ln net.Listener) error {
	err := s.httpSrv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, ends the event streams, and waits
// for the requests in flight until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopClosing()
	err := s.httpSrv.Shutdown(ctx)
	// Streams served off their handlers (on connections the streamer
	// took from net/http) are not waited for by net/http: end them, once
	// no handler may hand over another. The service goes on serving
	// streams (to another server, or to this one started again).
	if e, ok := s.streamer.(interface{ EndStreams() }); ok {
		e.EndStreams()
	}
	return err
}

// ServeHTTP is the outermost layer: request id, panics, CORS, access log
// and metrics around the router.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	info := &reqInfo{id: s.requestID(r)}
	w.Header().Set("X-Request-Id", info.id)
	sw := &statusWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger.ErrorContext(r.Context(), "http: panic", "request_id", info.id, "method", r.Method,
				"path", r.URL.Path, "panic", fmt.Sprint(p), "stack", stack())
			if !sw.wroteHeader {
				s.writeError(sw, r, errors.New("panic"))
			}
		}
		s.finish(r, sw, info, time.Since(start))
	}()
	if s.cors.handle(s, sw, r) {
		return
	}
	s.mux.ServeHTTP(sw, r)
}

// finish logs the request and records its duration.
func (s *Server) finish(r *http.Request, sw *statusWriter, info *reqInfo, d time.Duration) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	route := info.route
	if route == "" {
		route = "unmatched"
	}
	if s.metrics != nil {
		method := r.Method
		if route == "unmatched" && !knownMethod(method) {
			method = "OTHER" // a label per made-up method would grow without end
		}
		s.metrics.observeRequest(method, route, status, d)
	}
	if !s.logger.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", info.id),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Int64("bytes", sw.bytes),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("remote", r.RemoteAddr),
	}
	if info.caller != "" {
		attrs = append(attrs, slog.String("caller", info.caller))
	}
	if info.errCode != "" {
		attrs = append(attrs, slog.String("error", info.errCode))
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
}

func knownMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// requestID keeps a sane X-Request-Id from the client, else makes one.
func (s *Server) requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 128 && printableASCII(id) {
		return id
	}
	return s.reqPrefix + "-" + strconv.FormatUint(s.reqSeq.Add(1), 36)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// unmatched answers what no route matches: 405 when the path exists with
// other methods, else 404.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		e := newError(http.StatusMethodNotAllowed, codeMethod, "%s is not allowed on %s (allowed: %v)", r.Method, r.URL.Path, allowed)
		e.header = http.Header{"Allow": {joinComma(allowed)}}
		s.writeError(w, r, e)
		return
	}
	s.writeError(w, r, newError(http.StatusNotFound, codeNotFound, "no route %s %s (the API is under /api/v1; see /api/v1/openapi.json)", r.Method, r.URL.Path))
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// wrap puts a route's own layers around its handler: timeouts, body limit,
// authentication, rate limit.
func (s *Server) wrap(rt route) http.Handler {
	limit := rt.maxBody
	if limit == 0 {
		limit = s.cfg.HTTP.MaxBodyBytes
	}
	timeout := s.cfg.HTTP.RequestTimeout.D()
	pattern := rt.pattern()
	wildcards := pathWildcards(rt.path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(r.Context())
		info.route = pattern
		if rt.stream {
			// A stream lives as long as its client: no deadlines.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		} else if !rt.cached {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		if err := s.authenticate(r, rt.access, info); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := checkParams(r, wildcards); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := rt.handle(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// bounded is r's context limited to request_timeout, for the database
// work of a cached route.
func (s *Server) bounded(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.HTTP.RequestTimeout.D())
}

// reqInfo is what the layers learn about a request, for the log and the
// handlers.
type reqInfo struct {
	id      string
	route   string
	caller  string         // "key:NAME" or "user:ID", for the log
	apiKey  *cloche.APIKey // set on API key routes
	userID  string         // set on user token routes
	errCode string
	query   url.Values // parsed once (queryOf)
}

type infoKey struct{}

func infoOf(ctx context.Context) *reqInfo {
	if info, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return info
	}
	return &reqInfo{}
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush lets event streams push each event out.
func (w *statusWriter) Flush() {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

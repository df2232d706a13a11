package httpapi

import (
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cloche/cloche/internal/auth"
	"github.com/cloche/cloche/internal/config"
)

// authenticate checks the credential a route asks for and records the
// caller in info; then it applies the caller's rate limit.
//
// Both credentials come as "Authorization: Bearer …". An API key (ck_…)
// acts for the host application and reaches everything but /me; a user
// token reaches only /me, as its user. A credential is checked before its
// kind: one that is unknown, revoked, expired or forged is 401 wherever it
// is sent; a valid one of the wrong kind is 403, so that the mistake is
// plain.
func (s *Server) authenticate(r *http.Request, a access, info *reqInfo) error {
	if a == public {
		return nil
	}
	tok, err := bearer(r)
	if err != nil {
		return err
	}
	if tok == "" && a == userSSE {
		tok = queryOf(r).Get("access_token")
	}
	if tok == "" {
		return unauthorized("send a credential: Authorization: Bearer <API key or user token>", false)
	}
	if strings.HasPrefix(tok, auth.APIKeyPrefix) {
		k, err := s.svc.AuthenticateAPIKey(r.Context(), tok)
		if err != nil {
			return err
		}
		if a != hostKey {
			return newError(http.StatusForbidden, codeForbidden,
				"this route needs a user token (mint one with POST /api/v1/users/{id}/token); an API key acts for the host application, not for a user")
		}
		info.apiKey, info.caller = k, "key:"+k.Name
		return s.limits.allow(limitKey, strconv.FormatInt(k.ID, 10), "API key "+strconv.Quote(k.Name))
	}
	c, err := s.svc.VerifyUserToken(r.Context(), tok)
	if err != nil {
		return err
	}
	if a == hostKey {
		return newError(http.StatusForbidden, codeForbidden,
			"this route needs an API key; a user token reaches only /api/v1/me")
	}
	info.userID, info.caller = c.UserID, "user:"+c.UserID
	return s.limits.allow(limitUser, c.UserID, "user "+strconv.Quote(c.UserID))
}

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", nil
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", unauthorized("the Authorization header must be: Bearer <API key or user token>", true)
	}
	return strings.TrimSpace(tok), nil
}

// Limiter kinds.
const (
	limitKey  = "k"
	limitUser = "u"
)

// limiters keeps a token bucket per API key and per user, and forgets the
// ones unused for a while.
type limiters struct {
	cfg config.RateLimit

	mu        sync.Mutex
	m         map[string]*limiterEntry
	lastSweep time.Time
}

type limiterEntry struct {
	lim      *rate.Limiter
	lastUsed time.Time
}

// limiterIdle is how long an unused limiter is kept (a full bucket again
// by then).
const limiterIdle = 10 * time.Minute

func newLimiters(cfg config.RateLimit) *limiters {
	return &limiters{cfg: cfg, m: map[string]*limiterEntry{}, lastSweep: time.Now()}
}

// allow takes one request from the bucket of (kind, id), or says when to
// come back.
func (l *limiters) allow(kind, id, who string) error {
	rps, burst := l.cfg.APIKey, l.cfg.APIKeyBurst
	if kind == limitUser {
		rps, burst = l.cfg.UserToken, l.cfg.UserTokenBurst
	}
	if rps <= 0 {
		return nil
	}
	now := time.Now()
	key := kind + ":" + id
	l.mu.Lock()
	e := l.m[key]
	if e == nil {
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(rps), burst)}
		l.m[key] = e
	}
	e.lastUsed = now
	if now.Sub(l.lastSweep) > time.Minute {
		for k, v := range l.m {
			if now.Sub(v.lastUsed) > limiterIdle {
				delete(l.m, k)
			}
		}
		l.lastSweep = now
	}
	l.mu.Unlock()
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return rateLimited(int(math.Ceil(d.Seconds())), who)
	}
	return nil
}

// corsPolicy lets the pages of the configured origins call the API.
type corsPolicy struct {
	anyOrigin bool
	origins   map[string]bool
}

func newCORSPolicy(origins []string) corsPolicy {
	p := corsPolicy{origins: map[string]bool{}}
	for _, o := range origins {
		if o == "*" {
			p.anyOrigin = true
		}
		p.origins[o] = true
	}
	return p
}

const (
	corsMethods = "GET, POST, PUT, DELETE"
	corsHeaders = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Request-Id"
	corsExpose  = "X-Request-Id, Retry-After, Idempotent-Replayed, Location"
)

// handle adds CORS headers for an allowed origin, and answers preflight
// requests itself (true then).
func (p corsPolicy) handle(s *Server, w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := p.anyOrigin || p.origins[origin]
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
		if !allowed {
			s.writeError(w, r, newError(http.StatusForbidden, codeOriginForbidden,
				"origin %s may not call this API (http.cors_origins)", origin))
			return true
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", corsMethods)
		h.Set("Access-Control-Allow-Headers", corsHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExpose)
	}
	return false
}

// stack is the current goroutine's stack, for the log of a panic.
func stack() string { return string(debug.Stack()) }

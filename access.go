package cloche

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cloche/cloche/internal/auth"
	"github.com/cloche/cloche/internal/dispatch"
	"github.com/cloche/cloche/internal/store"
)

// ErrUnauthenticated matches errors about a credential that is missing,
// malformed, expired, revoked or unknown.
var ErrUnauthenticated = auth.ErrUnauthenticated

// APIKey is a host application's credential as listed. The key itself is
// shown once, when it is created; only its hash is stored.
type APIKey = store.APIKey

// TokenClaims are what a valid user token says.
type TokenClaims = auth.Claims

// tokenSecretSetting names the generated token secret in the database.
const tokenSecretSetting = "auth.token_secret"

// touchEvery is how often an API key's last use is written down.
const touchEvery = time.Minute

// accessState is the Service's memory for authentication: the token secret
// once known, and when each API key's use was last recorded.
type accessState struct {
	mu      sync.Mutex
	secret  []byte
	touched sync.Map // API key id → time.Time of the last recorded use

	// verified remembers tokens already verified, until they expire: a
	// token cannot change, and a browser sends the same one with every
	// request for its life.
	vmu      sync.Mutex
	verified map[string]*TokenClaims

	// keys remembers API keys found lately, by hash, for apiKeyTTL: a host
	// sends its key with every request. This process's revocations drop
	// them at once; another process's (the command line's) take effect
	// within apiKeyTTL.
	kmu  sync.Mutex
	keys map[string]cachedKey
}

type cachedKey struct {
	key   *APIKey
	until time.Time // by the monotonic clock
}

const (
	// maxVerified bounds the memory of verified tokens, maxKeys of API
	// keys.
	maxVerified = 10000
	maxKeys     = 1000
	// apiKeyTTL is how long a found API key is trusted without reading it
	// again.
	apiKeyTTL = time.Second
)

// CreateAPIKey makes an API key named name. It returns the key, which is
// not stored and cannot be shown again, and its record. A name is unique
// among the keys that are not revoked.
func (s *Service) CreateAPIKey(ctx context.Context, name string) (*APIKey, string, error) {
	name = strings.TrimSpace(name)
	if err := store.CheckText("name", name); err != nil {
		return nil, "", err
	}
	switch {
	case name == "":
		return nil, "", store.Invalid("name", "must not be empty")
	case len(name) > 100:
		return nil, "", store.Invalid("name", "is longer than 100 bytes")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return nil, "", store.Invalid("name", "must be printable text")
	}
	key, display, hash, err := auth.NewAPIKey()
	if err != nil {
		return nil, "", err
	}
	k := &APIKey{Name: name, Prefix: display, Hash: hash, CreatedAt: s.disp.Now()}
	if err := s.store.APIKeyInsert(ctx, k); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, "", &store.Error{Kind: ErrConflict, Msg: fmt.Sprintf("an active API key is named %q already", name), Err: err}
		}
		return nil, "", wrap("create api key", err)
	}
	return k, key, nil
}

// APIKeys lists every API key, revoked ones included, oldest first.
func (s *Service) APIKeys(ctx context.Context) ([]APIKey, error) {
	ks, err := s.store.APIKeyList(ctx)
	return ks, wrap("api keys", err)
}

// RevokeAPIKey revokes an API key, named by its id ("12") or by the name
// of an active key, and returns it. A revoked key is refused at once.
func (s *Service) RevokeAPIKey(ctx context.Context, ref string) (*APIKey, error) {
	ref = strings.TrimSpace(ref)
	if err := store.CheckID("key", ref); err != nil {
		return nil, err
	}
	keys, err := s.store.APIKeyList(ctx)
	if err != nil {
		return nil, wrap("revoke api key", err)
	}
	var found *APIKey
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		for i := range keys {
			if keys[i].ID == id {
				found = &keys[i]
			}
		}
	}
	if found == nil {
		for i := range keys {
			if keys[i].Name == ref && keys[i].RevokedAt == nil {
				found = &keys[i]
			}
		}
	}
	if found == nil {
		return nil, store.Errorf(ErrNotFound, "API key %q not found: no key has this id, nor is an active key so named", ref)
	}
	now := s.disp.Now()
	if err := s.store.APIKeyRevoke(ctx, found.ID, now); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, &store.Error{Kind: ErrConflict, Msg: fmt.Sprintf("API key %d (%s) is already revoked", found.ID, found.Name), Err: err}
		}
		return nil, wrap(fmt.Sprintf("API key %d (%s)", found.ID, found.Name), err)
	}
	s.access.forgetKeys()
	t := now.UTC().Truncate(time.Microsecond)
	found.RevokedAt = &t
	return found, nil
}

// AuthenticateAPIKey returns the active key that key is. Its errors match
// ErrUnauthenticated when the key is malformed, unknown or revoked.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (*APIKey, error) {
	if !auth.IsAPIKey(key) {
		return nil, fmt.Errorf("%w: not an API key (they start with %s)", ErrUnauthenticated, auth.APIKeyPrefix)
	}
	hash := auth.HashAPIKey(key)
	if k := s.access.cachedKey(hash); k != nil {
		s.touchAPIKey(ctx, k)
		return k, nil
	}
	k, err := s.store.APIKeyGetByHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, fmt.Errorf("%w: unknown API key", ErrUnauthenticated)
	case err != nil:
		return nil, wrap("authenticate", err)
	case k.RevokedAt != nil:
		return nil, fmt.Errorf("%w: API key %q was revoked", ErrUnauthenticated, k.Name)
	}
	s.access.keepKey(hash, k)
	s.touchAPIKey(ctx, k)
	return k, nil
}

// cachedKey returns the active key of hash found less than apiKeyTTL ago.
func (a *accessState) cachedKey(hash string) *APIKey {
	a.kmu.Lock()
	defer a.kmu.Unlock()
	if c, ok := a.keys[hash]; ok && time.Now().Before(c.until) {
		return c.key
	}
	return nil
}

func (a *accessState) keepKey(hash string, k *APIKey) {
	a.kmu.Lock()
	defer a.kmu.Unlock()
	if a.keys == nil || len(a.keys) >= maxKeys {
		a.keys = map[string]cachedKey{}
	}
	a.keys[hash] = cachedKey{key: k, until: time.Now().Add(apiKeyTTL)}
}

// forgetKeys drops the keys remembered (a key was revoked).
func (a *accessState) forgetKeys() {
	a.kmu.Lock()
	defer a.kmu.Unlock()
	clear(a.keys)
}

// touchAPIKey records a key's use, at most once a minute per key and
// process, so that authentication does not write at every request.
func (s *Service) touchAPIKey(ctx context.Context, k *APIKey) {
	now := s.disp.Now()
	if last, ok := s.access.touched.Load(k.ID); ok && now.Sub(last.(time.Time)) < touchEvery {
		return
	}
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < touchEvery {
		s.access.touched.Store(k.ID, *k.LastUsedAt)
		return
	}
	s.access.touched.Store(k.ID, now)
	if err := s.store.APIKeyTouch(ctx, k.ID, now); err != nil {
		s.logger.WarnContext(ctx, "api key: record last use", "id", k.ID, "err", err)
	}
}

// TokenSecret returns the secret that signs user tokens: auth.token_secret
// when configured, else the one generated on first use and kept in the
// database, shared by every process on it.
func (s *Service) TokenSecret(ctx context.Context) (string, error) {
	b, err := s.tokenSecret(ctx)
	return string(b), err
}

func (s *Service) tokenSecret(ctx context.Context) ([]byte, error) {
	s.access.mu.Lock()
	defer s.access.mu.Unlock()
	if s.access.secret != nil {
		return s.access.secret, nil
	}
	if s.cfg.Auth.TokenSecret != "" {
		s.access.secret = []byte(s.cfg.Auth.TokenSecret)
		return s.access.secret, nil
	}
	fresh, err := auth.NewSecret()
	if err != nil {
		return nil, err
	}
	stored, err := s.store.SettingInit(ctx, tokenSecretSetting, fresh)
	if err != nil {
		return nil, wrap("token secret", err)
	}
	if stored == fresh {
		s.logger.InfoContext(ctx, "generated the user token secret and stored it in the database (show it with `cloche token secret`)")
	}
	s.access.secret = []byte(stored)
	return s.access.secret, nil
}

// UserToken mints a user token for userID, who must be in the directory,
// valid for ttl (0: auth.token_ttl; at most auth.token_max_ttl). It returns
// the token and when it expires.
func (s *Service) UserToken(ctx context.Context, userID string, ttl time.Duration) (string, time.Time, error) {
	maxTTL := s.cfg.Auth.TokenMaxTTL.D()
	switch {
	case ttl == 0:
		ttl = s.cfg.Auth.TokenTTL.D()
	case ttl < time.Minute:
		return "", time.Time{}, store.Invalid("ttl", "must be at least one minute")
	case ttl > maxTTL:
		return "", time.Time{}, store.Invalid("ttl", "must be at most %s (auth.token_max_ttl)", maxTTL)
	}
	if err := store.CheckID("user_id", userID); err != nil {
		return "", time.Time{}, err
	}
	if _, err := s.store.UserGet(ctx, userID); err != nil {
		return "", time.Time{}, wrap(fmt.Sprintf("user %q", userID), err)
	}
	secret, err := s.tokenSecret(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return auth.MintUserToken(secret, userID, s.disp.Now(), ttl)
}

// VerifyUserToken checks a user token (HS256, sub and exp required, exp no
// further than auth.token_max_ttl) and returns what it says. Its errors
// match ErrUnauthenticated, saying what is wrong.
func (s *Service) VerifyUserToken(ctx context.Context, token string) (*TokenClaims, error) {
	now := s.disp.Now()
	a := &s.access
	a.vmu.Lock()
	c := a.verified[token]
	a.vmu.Unlock()
	if c != nil && now.Before(c.ExpiresAt.Add(auth.Leeway)) {
		return c, nil
	}
	secret, err := s.tokenSecret(ctx)
	if err != nil {
		return nil, err
	}
	c, err = auth.VerifyUserToken(secret, token, now, s.cfg.Auth.TokenMaxTTL.D())
	if err != nil {
		return nil, err
	}
	a.vmu.Lock()
	defer a.vmu.Unlock()
	if a.verified == nil || len(a.verified) >= maxVerified {
		fresh := make(map[string]*TokenClaims, len(a.verified))
		for t, v := range a.verified {
			if now.Before(v.ExpiresAt) && len(fresh) < maxVerified/2 {
				fresh[t] = v
			}
		}
		a.verified = fresh
	}
	a.verified[token] = c
	return c, nil
}

// Idempotent makes a Notify safe to retry: a later call with the same key
// and fingerprint, within 24 hours, creates nothing and returns the first
// result (with Replayed set); the same key with another fingerprint is a
// *FieldError on "Idempotency-Key". scope keeps senders' keys apart;
// fingerprint identifies the request (a hash of its content).
func Idempotent(scope, key, fingerprint string) NotifyOption {
	return func(o *dispatch.Options) {
		o.Idempotency = &dispatch.Idempotency{Scope: scope, Key: key, Fingerprint: fingerprint}
	}
}

// CheckAPIKey returns the id of key when it is a valid, unrevoked API key
// (the console's login accepts one), or ok false. Unlike the API's
// authentication, it does not trust a key found lately: a key revoked by
// another process a moment ago does not log in.
func (s *Service) CheckAPIKey(ctx context.Context, key string) (id int64, ok bool, err error) {
	k, err := s.AuthenticateAPIKey(ctx, key)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	active, err := s.APIKeyActive(ctx, k.ID)
	if err != nil || !active {
		return 0, false, err
	}
	return k.ID, true, nil
}

// APIKeyActive reports whether API key id exists and is not revoked. It
// reads the database every time (a console session opened with the key
// asks at every request), so that a revocation, by any process, ends the
// sessions at once.
func (s *Service) APIKeyActive(ctx context.Context, id int64) (bool, error) {
	k, err := s.store.APIKeyGet(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, wrap(fmt.Sprintf("api key %d", id), err)
	}
	return k.RevokedAt == nil, nil
}

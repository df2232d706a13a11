package httpapi

import (
	"net/http"
	"time"

	"github.com/cloche/cloche"
)

// pushKeyResponse is the answer of GET /api/v1/push/public-key.
type pushKeyResponse struct {
	PublicKey string `json:"public_key"`
	// Enabled: push.subject is set, so that pushes are sent.
	Enabled bool `json:"enabled"`
}

// pushPublicKey: GET /api/v1/push/public-key, the VAPID public key a
// browser subscribes with (applicationServerKey).
func (s *Server) pushPublicKey(w http.ResponseWriter, r *http.Request) error {
	k, err := s.svc.PushPublicKey(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pushKeyResponse{PublicKey: k, Enabled: s.svc.PushConfigured()})
	return nil
}

// pushSubscriptionResponse is a stored subscription, without its keys.
type pushSubscriptionResponse struct {
	ID        int64     `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

// pushSubscribe: POST /api/v1/me/push-subscriptions, the body what the
// browser's PushSubscription.toJSON() gives (expirationTime ignored).
func (s *Server) pushSubscribe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		cloche.PushSubscriptionInput
		ExpirationTime *float64 `json:"expirationTime"`
	}
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	sub, err := s.svc.PushSubscribe(r.Context(), inboxUser(r), in.PushSubscriptionInput)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, pushSubscriptionResponse{ID: sub.ID, Endpoint: sub.Endpoint, CreatedAt: sub.CreatedAt})
	return nil
}

// pushUnsubscribe: DELETE /api/v1/me/push-subscriptions with
// {"endpoint": …}.
func (s *Server) pushUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Endpoint string `json:"endpoint"`
	}
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	if err := s.svc.PushUnsubscribe(r.Context(), inboxUser(r), in.Endpoint); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

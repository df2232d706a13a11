package httpapi

import (
	"net/http"
	"time"

	"github.com/cloche/cloche"
)

// tokenRequest is the optional body of POST /api/v1/users/{id}/token.
type tokenRequest struct {
	// TTLSeconds is the token's life (default auth.token_ttl, at most
	// auth.token_max_ttl).
	TTLSeconds int64 `json:"ttl_seconds"`
}

// tokenResponse carries a user token.
type tokenResponse struct {
	Token     string    `json:"token"`
	TokenType string    `json:"token_type"`
	UserID    string    `json:"user_id"`
	ExpiresAt time.Time `json:"expires_at"`
	ExpiresIn int64     `json:"expires_in"` // seconds
}

// mintToken: POST /api/v1/users/{id}/token, with an API key, mints a user
// token for a user of the directory, for the host to hand to its page.
func (s *Server) mintToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	if req.TTLSeconds < 0 {
		return requiredField("ttl_seconds", "must not be negative")
	}
	id := r.PathValue("id")
	tok, exp, err := s.svc.UserToken(r.Context(), id, time.Duration(req.TTLSeconds)*time.Second)
	if err != nil {
		if fe := cloche.FieldErrors(err); len(fe) > 0 && fe[0].Field == "ttl" {
			fe[0].Field = "ttl_seconds"
		}
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, tokenResponse{Token: tok, TokenType: "Bearer", UserID: id, ExpiresAt: exp,
		ExpiresIn: int64(time.Until(exp).Round(time.Second).Seconds())})
	return nil
}

package httpapi

import (
	"errors"
	"net/http"

	"github.com/cloche/cloche"
)

// listTypes: GET /api/v1/types
func (s *Server) listTypes(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.svc.Types(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(ts, ""))
	return nil
}

// showType: GET /api/v1/types/{key}
func (s *Server) showType(w http.ResponseWriter, r *http.Request) error {
	t, err := s.svc.Type(r.Context(), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// typeRequest is the body of PUT /api/v1/types/{key}; omitted fields keep
// their current value (or the defaults of a new type).
type typeRequest struct {
	Label          string `json:"label"`
	DefaultChannel string `json:"default_channel"`
	StatusType     string `json:"status_type"`
	Mandatory      *bool  `json:"mandatory"`
	// EmailIfUnreadMinutes: absent keeps it; 0 turns it off.
	EmailIfUnreadMinutes *int `json:"email_if_unread_minutes"`
}

// putType: PUT /api/v1/types/{key} creates (201) or changes (200) a type.
func (s *Server) putType(w http.ResponseWriter, r *http.Request) error {
	var req typeRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	key := r.PathValue("key")
	_, err := s.svc.Type(r.Context(), key)
	created := errors.Is(err, cloche.ErrNotFound)
	if err != nil && !created {
		return err
	}
	var opts []cloche.TypeOption
	if req.Mandatory != nil {
		opts = append(opts, cloche.Mandatory(*req.Mandatory))
	}
	if req.EmailIfUnreadMinutes != nil {
		opts = append(opts, cloche.EmailIfUnread(*req.EmailIfUnreadMinutes))
	}
	t, err := s.svc.SetType(r.Context(), cloche.NotificationType{Key: key, Label: req.Label,
		DefaultChannel: cloche.Channel(req.DefaultChannel), StatusType: cloche.StatusType(req.StatusType)}, opts...)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, t)
	return nil
}

// deleteType: DELETE /api/v1/types/{key}; 409 in_use when events use it.
func (s *Server) deleteType(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteType(r.Context(), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

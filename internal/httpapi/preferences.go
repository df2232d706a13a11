package httpapi

import (
	"net/http"

	"github.com/cloche/cloche"
)

// Preferences per type and channel: a user's own with a user token
// (/api/v1/me/preferences), anyone's with an API key
// (/api/v1/users/{id}/preferences), and the organisation defaults
// (/api/v1/preferences/defaults).

// preferencesRequest is the body of the PUTs: every setting, and a
// person's digest schedules (absent: immediate, no category's own).
type preferencesRequest struct {
	Settings        []cloche.PreferenceSetting `json:"settings"`
	Digest          *cloche.DigestSchedule     `json:"digest"`
	CategoryDigests []cloche.CategoryDigest    `json:"category_digests"`
}

// showPreferences: GET …/preferences.
func (s *Server) showPreferences(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.Preferences(r.Context(), inboxUser(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putPreferences: PUT …/preferences {"settings": […]} replaces them all.
func (s *Server) putPreferences(w http.ResponseWriter, r *http.Request) error {
	var req preferencesRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	p, err := s.svc.SetPreferences(r.Context(), inboxUser(r), req.Settings,
		&cloche.DigestChange{Digest: req.Digest, Categories: req.CategoryDigests})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// showPreferenceDefaults: GET /api/v1/preferences/defaults.
func (s *Server) showPreferenceDefaults(w http.ResponseWriter, r *http.Request) error {
	p, err := s.svc.DefaultPreferences(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// putPreferenceDefaults: PUT /api/v1/preferences/defaults {"settings": […]}.
func (s *Server) putPreferenceDefaults(w http.ResponseWriter, r *http.Request) error {
	var req preferencesRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	p, err := s.svc.SetDefaultPreferences(r.Context(), req.Settings)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// mutedReport is what an event's page says of the recipients a
// preference kept from a channel (reason "preference").
func (s *Server) mutedReport(r *http.Request, ev *cloche.Event) ([]cloche.PreferenceSkip, error) {
	if ev.Status != cloche.EventPublished {
		return nil, nil
	}
	return s.svc.PreferenceSkips(r.Context(), ev.ID, 1000)
}

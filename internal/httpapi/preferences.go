package httpapi

import (
	"net/http"

	"github.com/cloche/cloche"
)

// Preferences per type and channel: a user's own with a user token
// (/api/v1/me/preferences), anyone's with an API key
// (/api/v1/users/{id}/preferences), and the organisation defaults
// (/api/v1/preferences/defaults).

// preferencesRequest is the body of the PUTs: every setting, and for a
// person the rest of the document (time zone, quiet hours, unread delay,
// digests; an absent field is its default).
type preferencesRequest struct {
	Settings []cloche.PreferenceSetting `json:"settings"`
	cloche.PersonPreferences
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
	p, err := s.svc.SetPreferences(r.Context(), inboxUser(r), req.Settings, cloche.WithPerson(req.PersonPreferences))
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

// mutedReport is what an event's page says of the recipients who got
// nothing on a channel because of their settings (cloche.EventWithheld):
// reason "preference", "quiet_hours", "unread" or "digest".
func (s *Server) mutedReport(r *http.Request, ev *cloche.Event) ([]cloche.PreferenceSkip, error) {
	return s.svc.EventWithheld(r.Context(), ev)
}

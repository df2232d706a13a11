package httpapi

import (
	"net/http"

	"github.com/cloche/cloche"
)

// listWebhooks: GET /api/v1/webhooks
func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	os, err := s.svc.Webhooks(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newPage(os, ""))
	return nil
}

// createWebhook: POST /api/v1/webhooks adds an outlet (201).
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in cloche.WebhookInput
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	o, err := s.svc.AddWebhook(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, o)
	return nil
}

// showWebhook: GET /api/v1/webhooks/{id}
func (s *Server) showWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.svc.Webhook(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// deleteWebhook: DELETE /api/v1/webhooks/{id} (204).
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.RemoveWebhook(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pauseWebhook: POST /api/v1/webhooks/{id}/pause
func (s *Server) pauseWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.svc.PauseWebhook(r.Context(), id, "the API")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// resumeWebhook: POST /api/v1/webhooks/{id}/resume
func (s *Server) resumeWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.svc.ResumeWebhook(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// testWebhook: POST /api/v1/webhooks/{id}/test posts a test webhook and
// answers what the outlet said (200 whatever it said; see ok).
func (s *Server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.svc.TestWebhook(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

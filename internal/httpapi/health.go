package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

// healthz: GET /healthz, the process answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz: GET /readyz, the database answers and is migrated (503 if not).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Ready(r.Context()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "backend": s.svc.Backend()})
	return nil
}

//go:embed openapi.json
var openAPIDocument []byte

// openAPI: GET /api/v1/openapi.json, the description of this API.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPIDocument)
	return nil
}

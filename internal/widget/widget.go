package widget

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"
)

// Path is where the script is served.
const Path = "/widget/cloche.js"

//go:embed cloche.js
var script []byte

// Handler serves the widget's script.
type Handler struct {
	etag string
}

// New returns the handler of the widget's script.
func New() *Handler {
	sum := sha256.Sum256(script)
	return &Handler{etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// ETag is the script's strong entity tag: a hash of its content.
func (h *Handler) ETag() string { return h.etag }

// Register mounts the handler on mux at GET /widget/cloche.js.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Path, h)
}

// ServeHTTP answers the script, or 304 when the client's copy is current.
// A browser keeps it for five minutes, then asks again with its ETag. Any
// page may load it: it is public, and answers CORS requests too, so that a
// host can pin it with integrity="…" crossorigin="anonymous", or load it
// under Cross-Origin-Embedder-Policy.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/javascript; charset=utf-8")
	hdr.Set("Cache-Control", "public, max-age=300")
	hdr.Set("ETag", h.etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Access-Control-Allow-Origin", "*")
	hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// ServeContent answers If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, "cloche.js", time.Time{}, bytes.NewReader(script))
}

package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/cloche/cloche/internal/negotiate"
)

// Path is where the script is served, and WorkerPath the service
// worker's, which a host imports from its own origin (README, "Browser
// push").
const (
	Path       = "/widget/cloche.js"
	WorkerPath = "/widget/cloche-sw.js"
)

//go:embed cloche.js
var source []byte

// script is what is served: the source without its comment lines and
// indentation (a fifth smaller gzipped), line for line otherwise, so that
// the browser's line numbers stay near the source's.
var script = compact(source)

// compact drops the lines that are only a // comment, the comment that ends
// a line of code (" // …", outside a string or a template literal), and the
// indentation of the others. (The source has no template literal or string
// where a line starting with // or leading spaces would matter: the CSS's
// lines lose their indentation only. A " // " after an odd number of quotes
// of a kind is in a string, or a regular expression: it stays.)
func compact(src []byte) []byte {
	out := make([]byte, 0, len(src))
	inTemplate := false // a template literal runs on from a line before
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		t := bytes.TrimLeft(line, " \t")
		if !inTemplate && bytes.HasPrefix(t, []byte("//")) {
			continue
		}
		if i := commentAt(t); i > 0 && !inTemplate {
			code := bytes.TrimRight(t[:i], " ")
			t = append(code[:len(code):len(code)], t[len(t)-1]) // a copy: t is the source's
			if t[len(t)-1] != '\n' {
				t = t[:len(t)-1]
			}
		}
		if bytes.Count(t, []byte("`"))%2 == 1 {
			inTemplate = !inTemplate
		}
		out = append(out, t...)
	}
	return out
}

// commentAt is where the comment that ends a line of code starts: the first
// " // " after which every string is closed (an even number of each quote,
// once the escaped characters are left out; of slashes too, for a regular
// expression), or -1.
func commentAt(line []byte) int {
	for i := 0; ; {
		j := bytes.Index(line[i:], []byte(" // "))
		if j < 0 {
			return -1
		}
		i += j
		code := make([]byte, 0, i)
		for k := 0; k < i; k++ {
			if line[k] == '\\' {
				k++ // and the character it escapes
				continue
			}
			code = append(code, line[k])
		}
		even := true
		for _, q := range []byte("'\"`/") {
			even = even && bytes.Count(code, []byte{q})%2 == 0
		}
		if even {
			return i
		}
		i++
	}
}

//go:embed cloche-sw.js
var worker []byte

// Handler serves the widget's script, gzipped to the clients that accept
// it (a quarter of its size).
type Handler struct {
	etag, gzipETag string
	gzipped        []byte // nil if gzip failed: the plain script only
	worker         http.Handler
}

// New returns the handler of the widget's script.
func New() *Handler {
	sum := sha256.Sum256(script)
	tag := hex.EncodeToString(sum[:16])
	wsum := sha256.Sum256(worker)
	h := &Handler{etag: `"` + tag + `"`, gzipETag: `"` + tag + `-gzip"`, worker: workerHandler(`"` + hex.EncodeToString(wsum[:16]) + `"`)}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err == nil {
		_, err = zw.Write(script)
		if cerr := zw.Close(); err == nil && cerr == nil {
			h.gzipped = buf.Bytes()
		}
	}
	return h
}

// ETag is the script's strong entity tag: a hash of its content.
func (h *Handler) ETag() string { return h.etag }

// Register mounts the handler on mux at GET /widget/cloche.js, and the
// service worker at GET /widget/cloche-sw.js.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET "+Path, h)
	mux.Handle("GET "+WorkerPath, h.worker)
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
	hdr.Add("Vary", "Accept-Encoding")
	body := script
	if h.gzipped != nil && negotiate.AcceptsGzip(r) {
		// Another representation: its own entity tag.
		hdr.Set("ETag", h.gzipETag)
		hdr.Set("Content-Encoding", "gzip")
		body = h.gzipped
	}
	// ServeContent answers If-None-Match (304), HEAD and ranges.
	http.ServeContent(w, r, "cloche.js", time.Time{}, bytes.NewReader(body))
}

// workerHandler serves the service worker's script. A host's worker
// imports it (importScripts, a no-cors request), and browsers check
// imported scripts for updates at most daily unless told otherwise: it is
// kept an hour, then asked again with its ETag.
func workerHandler(etag string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Type", "text/javascript; charset=utf-8")
		hdr.Set("Cache-Control", "public, max-age=3600")
		hdr.Set("ETag", etag)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Access-Control-Allow-Origin", "*")
		hdr.Set("Cross-Origin-Resource-Policy", "cross-origin")
		http.ServeContent(w, r, "cloche-sw.js", time.Time{}, bytes.NewReader(worker))
	})
}

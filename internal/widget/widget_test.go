package widget

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestServeScript(t *testing.T) {
	h := New()
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tag := h.ETag()
	if !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(tag) {
		t.Fatalf("ETag %s, want a strong tag of the content's hash", tag)
	}
	gzTag := strings.TrimSuffix(tag, `"`) + `-gzip"`
	for _, tc := range []struct {
		name, method, ifNoneMatch string
		gzip                      bool // the client accepts gzip
		status                    int
		body                      bool
	}{
		{"first load", "GET", "", false, http.StatusOK, true},
		{"current copy", "GET", tag, false, http.StatusNotModified, false},
		{"current copy, weak", "GET", "W/" + tag, false, http.StatusNotModified, false},
		{"current copy among others", "GET", `"old", ` + tag, false, http.StatusNotModified, false},
		{"stale copy", "GET", `"0123"`, false, http.StatusOK, true},
		{"head", "HEAD", "", false, http.StatusOK, false},
		{"post", "POST", "", false, http.StatusMethodNotAllowed, false},
		{"first load, gzipped", "GET", "", true, http.StatusOK, true},
		{"current gzipped copy", "GET", gzTag, true, http.StatusNotModified, false},
		{"plain copy, gzip accepted now", "GET", tag, true, http.StatusOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+Path, nil)
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			req.Header.Set("Accept-Encoding", map[bool]string{false: "identity", true: "gzip, deflate, br"}[tc.gzip])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			wantTag := tag
			if tc.gzip {
				wantTag = gzTag
				if tc.body {
					if resp.Header.Get("Content-Encoding") != "gzip" {
						t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
					}
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					plain, _ := io.ReadAll(zr)
					if len(body) > len(script)/2 {
						t.Errorf("gzipped script: %d bytes of %d", len(body), len(script))
					}
					body = plain
				}
			}
			if tc.body != bytes.Equal(body, script) {
				t.Errorf("body of %d bytes; want the script: %v", len(body), tc.body)
			}
			if tc.status == http.StatusMethodNotAllowed {
				return
			}
			for name, want := range map[string]string{
				"ETag":                         wantTag,
				"Vary":                         "Accept-Encoding",
				"Cache-Control":                "public, max-age=300",
				"X-Content-Type-Options":       "nosniff",
				"Access-Control-Allow-Origin":  "*",
				"Cross-Origin-Resource-Policy": "cross-origin",
			} {
				if got := resp.Header.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if tc.status == http.StatusOK {
				if ct := resp.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
					t.Errorf("Content-Type %q", ct)
				}
			}
		})
	}
}

// The script builds the DOM node by node: notification data never goes
// through an HTML parser that could run it (DOMParser aside, whose
// document is inert).
func TestScriptWritesNoHTML(t *testing.T) {
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on"} {
		if bytes.Contains(script, []byte(sink)) {
			t.Errorf("cloche.js uses %s", sink)
		}
	}
}

// TestScriptSize keeps the served script under 20 KB gzipped (README:
// "Size"), and checks that compacting it kept every line of code.
func TestScriptSize(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(script)
	_ = zw.Close()
	t.Logf("cloche.js: source %d bytes, served %d bytes, %d gzipped", len(source), len(script), buf.Len())
	if buf.Len() > 20_000 {
		t.Errorf("the served script is %d bytes gzipped, over 20 KB", buf.Len())
	}
	code := 0
	for _, line := range strings.Split(string(source), "\n") {
		if tl := strings.TrimSpace(line); !strings.HasPrefix(tl, "//") {
			code++
		}
	}
	if got := strings.Count(string(script), "\n") + 1; got != code {
		t.Errorf("the served script has %d lines, the source %d lines that are not comments", got, code)
	}
}

// compact drops comments only: not a " // " in a string, a regular
// expression or a template literal (nor, to be safe, after one that ends
// on the line).
func TestCompact(t *testing.T) {
	src := "  // a comment\n" +
		"  const a = 1; // one\n" +
		"  const b = 'x // y'; // in a string\n" +
		"  const c = \"it's // not\";\n" +
		"  const d = /a \\/ // b/;\n" +
		"  const e = `\n" +
		"    p { x: 1; } // kept\n" +
		"  `; // after the template\n" +
		"  f(); // last"
	want := "const a = 1;\n" +
		"const b = 'x // y';\n" +
		"const c = \"it's // not\";\n" +
		"const d = /a \\/ // b/;\n" +
		"const e = `\n" +
		"p { x: 1; } // kept\n" +
		"`; // after the template\n" +
		"f();"
	before := src
	if got := string(compact([]byte(src))); got != want {
		t.Errorf("compact:\n%s\nwant:\n%s", got, want)
	}
	if src != before {
		t.Errorf("compact changed its source")
	}
}

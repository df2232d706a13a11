package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

// The HTTP API of a `cloche serve` process, with a key made by the command
// line, and revoked by it while the server runs: the server refuses it at
// once. A notify through the API shows in the command line's inbox.
func TestServeHTTP(t *testing.T) {
	bin := buildBinary(t)
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			url := b.URL(t)
			run(t, bin, url, "migrate")
			key := strings.TrimSpace(string(run(t, bin, url, "apikey", "create", "endi")))
			addr := serve(t, bin, url)
			base := "http://" + addr

			call := func(method, path, body string) (int, []byte) {
				t.Helper()
				req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				out, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, out
			}
			if code, out := call("PUT", "/api/v1/users/7", `{"name": "Grace", "email": "grace@example.org"}`); code != 200 {
				t.Fatalf("put user: %d %s", code, out)
			}
			code, out := call("POST", "/api/v1/events", `{"key": "message:internal", "title": "Over HTTP", "user_ids": [7]}`)
			if code != 201 || !bytes.Contains(out, []byte(`"status":"published"`)) {
				t.Fatalf("notify: %d %s", code, out)
			}
			if inbox := run(t, bin, url, "inbox", "7"); !bytes.Contains(inbox, []byte("Over HTTP")) {
				t.Errorf("inbox 7:\n%s", inbox)
			}
			resp, err := http.Get(base + "/readyz")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("readyz: %v %v", resp, err)
			}
			resp.Body.Close()

			// The server trusts a key it found for a second: the command
			// line's revocation takes effect within that.
			run(t, bin, url, "apikey", "revoke", "endi")
			revoked := time.Now()
			for {
				code, out = call("GET", "/api/v1/types", "")
				if code != http.StatusOK || time.Since(revoked) > 3*time.Second {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			var e struct {
				Error struct{ Code string } `json:"error"`
			}
			if code != 401 || json.Unmarshal(out, &e) != nil || e.Error.Code != "unauthorized" {
				t.Errorf("revoked key, %v after the revocation: %d %s", time.Since(revoked), code, out)
			}
		})
	}
}

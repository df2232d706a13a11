package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cloche/cloche/internal/testdb"
)

// BenchmarkServeCachedInbox is the server's own cost of a cached inbox
// read, without the network: routing, middleware, authentication, the
// cache, the access log and the metrics, into a recorder. Its allocs/op
// are what the collector has to clean up after each such request.
func BenchmarkServeCachedInbox(b *testing.B) {
	svc := benchService(b, testdb.SQLiteURL(b))
	tokens := seedInboxes(b, svc)
	srv, err := New(svc, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{"/healthz", "/api/v1/me/counts", "/api/v1/me/notifications?channel=message&limit=20"} {
		b.Run(path, func(b *testing.B) {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+tokens[0])
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, w.Code, w.Body)
				}
			}
		})
	}
}

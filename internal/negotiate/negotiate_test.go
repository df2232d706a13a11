package negotiate

import (
	"net/http/httptest"
	"testing"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   bool
	}{
		{nil, false},
		{[]string{"gzip, deflate, br"}, true}, // a browser's
		{[]string{"br;q=1.0, GZIP;q=0.5"}, true},
		{[]string{"*"}, true},
		{[]string{"identity"}, false},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.0"}, false},
		{[]string{"*;q=0, gzip"}, true},
		{[]string{"gzip;q=0, *"}, false},
		{[]string{"br", "gzip"}, true}, // two header lines
	} {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range tc.header {
			r.Header.Add("Accept-Encoding", h)
		}
		if got := AcceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tc.header, got, tc.want)
		}
	}
}

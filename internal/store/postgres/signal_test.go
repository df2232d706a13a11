package postgres

import (
	"reflect"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// A transaction's fan-outs go in one payload; each range comes back as a
// signal of its own, in order. A payload that is not whole is refused.
func TestParseSignal(t *testing.T) {
	n := func(e, f, l int64) store.FeedSignal {
		return store.FeedSignal{Kind: store.SignalNotifications, Range: store.FeedRange{EventID: e, FirstID: f, LastID: l}}
	}
	for _, tc := range []struct {
		payload string
		want    []store.FeedSignal
		ok      bool
	}{
		{"n:7:100:109", []store.FeedSignal{n(7, 100, 109)}, true},
		{"n:7:100:109:8:110:110:9:120:129", []store.FeedSignal{n(7, 100, 109), n(8, 110, 110), n(9, 120, 129)}, true},
		{"n:7:100:109:8:110", nil, false},
		{"n:7:100:99", nil, false},
		{"n", nil, false},
		{"c:5:user:with:colons", []store.FeedSignal{{Kind: store.SignalChange, ChangeID: 5, UserID: "user:with:colons"}}, true},
		{"r", []store.FeedSignal{{Kind: store.SignalResync}}, true},
		{"x:1", nil, false},
	} {
		got, ok := parseSignal(tc.payload)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("parseSignal(%q) = %v, %v; want %v, %v", tc.payload, got, ok, tc.want, tc.ok)
		}
	}
	// What flushSignals cuts stays under PostgreSQL's payload limit.
	var ranges []store.FeedRange
	for i := range int64(2000) {
		ranges = append(ranges, store.FeedRange{EventID: 1_000_000 + i, FirstID: 9_000_000_000 + i, LastID: 9_000_000_000 + i})
	}
	text := signalNotifications
	count := 0
	for _, r := range ranges {
		if len(text)+len(rangeText(r)) > maxSignalPayload {
			sigs, ok := parseSignal(text)
			if !ok {
				t.Fatalf("a cut payload does not parse: %q", text)
			}
			count += len(sigs)
			text = signalNotifications
		}
		text += rangeText(r)
	}
	sigs, _ := parseSignal(text)
	if count+len(sigs) != len(ranges) {
		t.Errorf("%d ranges came back of %d", count+len(sigs), len(ranges))
	}
}

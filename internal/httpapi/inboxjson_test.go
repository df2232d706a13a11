package httpapi

import (
	"bytes"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/store"
)

// TestInboxPageJSON holds the hand-written page encoding to encoding/json's.
func TestInboxPageJSON(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 18, 16, 59, 524756000, time.UTC)
	later := t0.Add(90 * time.Minute)
	whole := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	paris := t0.In(time.FixedZone("CET", 3600))
	plain := cloche.InboxItem{ID: 41, EventID: 7, UserID: "1", Channel: cloche.ChannelMessage, Key: "message:internal",
		StatusType: "neutral", Title: "Hello", Body: "Body text.", CreatedAt: t0, VisibleAt: t0}
	full := cloche.InboxItem{ID: 1 << 40, EventID: 9, UserID: "u-42", Channel: cloche.ChannelAlert, Key: "task:status:valid",
		StatusType: "valid", Title: "Facture n° 42 réglée — merci", Body: "Ligne 1\nLigne 2\t« guillemets » \"quoted\" \\ <b>&amp;</b>",
		ContextType: "invoice", ContextID: "F-42", CreatedAt: t0, VisibleAt: whole, ExpiresAt: &later, ReadAt: &whole,
		URL: "https://example.org/invoices/42?a=1&b=<2>", ArchivedAt: &paris,
		Actions: []store.ItemAction{{Label: "Open", URL: "https://example.org/42"}, {Label: "Approve", Callback: true}, {Label: "é"}}}
	odd := cloche.InboxItem{ID: -1, Title: "bad \xff utf-8, line\u2028separator, nul \x00, emoji 🔔", Body: "\u2029",
		Key: "\x7f", CreatedAt: time.Time{}, VisibleAt: t0.Add(time.Nanosecond)}
	tests := []struct {
		name  string
		items []cloche.InboxItem
		next  string
	}{
		{"empty", nil, ""},
		{"one", []cloche.InboxItem{plain}, ""},
		{"with next", []cloche.InboxItem{plain, full}, "MTc2NDc4NTgxOTUyNDc1Ni40MQ"},
		{"every field", []cloche.InboxItem{full}, ""},
		{"odd strings and times", []cloche.InboxItem{odd, plain}, "x\"y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, err := encodeJSON(newPage(tc.items, tc.next))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendInboxPage(nil, tc.items, tc.next)
			if !ok {
				t.Fatal("appendInboxPage refused")
			}
			if !bytes.Equal(got, want) {
				t.Errorf("by hand:\n%s\nencoding/json:\n%s", got, want)
			}
			p := &cloche.InboxPage{Items: tc.items, Next: tc.next}
			if b, err := encodeInboxPage(p); err != nil || !bytes.Equal(b, want) {
				t.Errorf("encodeInboxPage = %s, %v", b, err)
			}
		})
	}
	t.Run("a year encoding/json refuses", func(t *testing.T) {
		bad := plain
		bad.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, ok := appendInboxPage(nil, []cloche.InboxItem{bad}, ""); ok {
			t.Error("appendInboxPage accepted the year 10000")
		}
		if _, err := encodeInboxPage(&cloche.InboxPage{Items: []cloche.InboxItem{bad}}); err == nil {
			t.Error("encodeInboxPage accepted the year 10000")
		}
	})
}

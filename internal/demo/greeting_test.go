package demo

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// TestGreetingFollowsTheClock: the page says hello by the hour of the
// person's time zone (the organisation's when they have none), not UTC's
// nor a fixed "Good morning".
func TestGreetingFollowsTheClock(t *testing.T) {
	ctx := context.Background()
	cfg := cloche.DefaultConfig()
	cfg.DatabaseURL = testdb.SQLiteURL(t)
	cfg.TimeZone = "Europe/Paris"
	svc, err := cloche.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := Load(ctx, svc); err != nil {
		t.Fatal(err)
	}
	// Gaëlle (12) lives in Montréal; Alice (1) keeps the organisation's zone.
	if _, err := svc.UpdatePreferences(ctx, "12", nil, cloche.WithTimeZone("America/Toronto")); err != nil {
		t.Fatal(err)
	}
	page, err := NewPage(svc, "/console", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		utc  string
		user string
		want string
	}{
		{"2026-12-03T15:30:00Z", "1", "Good afternoon, Alice"}, // 16:30 in Paris
		{"2026-12-03T11:30:00Z", "1", "Good afternoon, Alice"}, // 12:30 in Paris, still morning in UTC
		{"2026-12-03T05:30:00Z", "1", "Good morning, Alice"},
		{"2026-12-03T20:00:00Z", "1", "Good evening, Alice"},
		{"2026-12-03T03:30:00Z", "1", "Good evening, Alice"},     // 4:30 in Paris: not morning yet
		{"2026-12-03T15:30:00Z", "12", "Good morning, Gaëlle"},   // 10:30 in Toronto
		{"2026-12-03T19:30:00Z", "12", "Good afternoon, Gaëlle"}, // 14:30 in Toronto
	} {
		now, _ := time.Parse(time.RFC3339, tc.utc)
		page.now = func() time.Time { return now }
		rec := httptest.NewRecorder()
		page.page(rec, httptest.NewRequest("GET", "/demo?user="+tc.user, nil))
		b, _ := io.ReadAll(rec.Body)
		if !strings.Contains(string(b), "<h1>"+tc.want+"</h1>") {
			t.Errorf("at %s, user %s: want %q in the heading", tc.utc, tc.user, tc.want)
		}
	}
}

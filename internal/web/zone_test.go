package web

import (
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/testdb"
)

func TestZoneLabel(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	winter := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		loc  *time.Location
		now  time.Time
		want string
	}{
		{"named zone in winter", paris, winter, "Europe/Paris (CET, UTC+01:00)"},
		{"named zone in summer", paris, summer, "Europe/Paris (CEST, UTC+02:00)"},
		{"UTC", time.UTC, winter, "UTC (UTC+00:00)"},
		{"offset-only abbreviation", time.FixedZone("-03", -3*3600), winter, "-03 (UTC-03:00)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := zoneLabel(tc.loc, tc.now); got != tc.want {
				t.Errorf("zoneLabel = %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("the machine's zone", func(t *testing.T) {
		got := zoneLabel(time.Local, winter)
		_, off := winter.In(time.Local).Zone()
		want := "UTC" + winter.In(time.Local).Format("-07:00")
		if !strings.HasPrefix(got, "the server's local time (") || !strings.Contains(got, want) || strings.Contains(got, "Local") {
			t.Errorf("zoneLabel(Local) = %q, want the server's local time with offset %s (%d s)", got, want, off)
		}
	})
}

func TestFooterNamesZone(t *testing.T) {
	h := newHarness(t, testdb.SQLiteURL(t), nil)
	h.mustLogin()
	p := h.get("/console/")
	wantStatus(t, "dashboard", p, 200)
	wantContains(t, "dashboard footer", p, "Times are shown in Europe/Paris (CE", ", UTC&#43;0") // html/template writes + as &#43;
	if strings.Contains(p.body, "Times are shown in Local.") {
		t.Error("the footer still says Local")
	}
}

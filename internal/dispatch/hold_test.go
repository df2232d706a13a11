package dispatch

import (
	"log/slog"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// TestHold: how the unread delay (the person's over the type's), quiet
// hours and a mandatory type combine for one e-mail.
func TestHold(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	d := &Dispatcher{cfg: Config{Zone: paris}, logger: slog.New(slog.DiscardHandler)}
	night := `{"start":"21:00","end":"08:00"}`
	// 21:15 in Paris (CEST), 20:15 in London, a weekday.
	now := time.Date(2026, 6, 10, 19, 15, 0, 0, time.UTC)
	morning := time.Date(2026, 6, 11, 6, 0, 0, 0, time.UTC)
	zero, ten := 0, 10
	cases := []struct {
		name      string
		typ       store.NotificationType
		c         store.HoldCandidate
		held      bool
		notBefore time.Time
		reason    string
		unless    bool
	}{
		{"nothing set", store.NotificationType{}, store.HoldCandidate{InApp: true}, false, time.Time{}, "", false},
		{"type's delay", store.NotificationType{EmailIfUnreadMinutes: 5}, store.HoldCandidate{InApp: true},
			true, now.Add(5 * time.Minute), store.HoldUnread, true},
		{"person's delay over the type's", store.NotificationType{EmailIfUnreadMinutes: 5}, store.HoldCandidate{InApp: true, EmailIfUnreadMinutes: &ten},
			true, now.Add(10 * time.Minute), store.HoldUnread, true},
		{"person turns the type's delay off", store.NotificationType{EmailIfUnreadMinutes: 5}, store.HoldCandidate{InApp: true, EmailIfUnreadMinutes: &zero},
			false, time.Time{}, "", false},
		{"no in-app notification: no delay", store.NotificationType{EmailIfUnreadMinutes: 5}, store.HoldCandidate{},
			false, time.Time{}, "", false},
		{"quiet hours, organisation's zone", store.NotificationType{}, store.HoldCandidate{QuietHours: night},
			true, morning, store.HoldQuietHours, false},
		{"outside quiet hours in the person's zone", store.NotificationType{}, store.HoldCandidate{QuietHours: night, TimeZone: "Europe/London"},
			false, time.Time{}, "", false},
		{"delay ends in quiet hours: until they end, still unless read", store.NotificationType{EmailIfUnreadMinutes: 30}, store.HoldCandidate{InApp: true, QuietHours: night},
			true, morning, store.HoldQuietHours, true},
		{"mandatory: quiet hours and the person's delay ignored", store.NotificationType{Mandatory: true}, store.HoldCandidate{InApp: true, QuietHours: night, EmailIfUnreadMinutes: &ten},
			false, time.Time{}, "", false},
		{"mandatory: the type's delay applies", store.NotificationType{Mandatory: true, EmailIfUnreadMinutes: 5}, store.HoldCandidate{InApp: true, QuietHours: night},
			true, now.Add(5 * time.Minute), store.HoldUnread, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, held := d.hold(c.c, &c.typ, now, &holdMemo{})
			if held != c.held {
				t.Fatalf("held = %v, want %v (%+v)", held, c.held, h)
			}
			if held && (!h.NotBefore.Equal(c.notBefore) || h.Reason != c.reason || h.UnlessRead != c.unless) {
				t.Errorf("hold %+v, want until %s for %s, unless read %v", h, c.notBefore, c.reason, c.unless)
			}
		})
	}
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/directory"
)

// TestSendReportsTheUnreached: the console says, after a send and on the
// event's page, which groups are unknown and who got nothing.
func TestSendReportsTheUnreached(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		if _, err := h.svc.UpsertUser(ctx, cloche.UserInput{ID: "u1", Name: "On"}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.UpsertUser(ctx, cloche.UserInput{ID: "u2", Name: "Off", Active: new(false)}); err != nil {
			t.Fatal(err)
		}
		h.mustLogin()
		p := h.send(url.Values{"key": {"message:internal"}, "title": {"Hello"}, "groups": {"ghosts"}, "user_ids": {"u1 u2"}})
		wantStatus(t, "send", p, http.StatusSeeOther)
		want := []string{
			"Unknown group names (no user belongs to them): ghosts.",
			"Not reached: user u2 (inactive).",
		}
		wantContains(t, "after the send", h.get(p.location()), append(want, `class="flash flash-warn"`)...)
		// The event's page keeps saying it.
		wantContains(t, "event page", h.get(p.location()), append(want, `id="event-report"`)...)
	})
}

// TestConsoleRefusesHostileStrings: a query holding U+0000 or bytes that
// are not UTF-8 is a 400 naming the field, on both backends, never a 500.
func TestConsoleRefusesHostileStrings(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		h.mustLogin()
		for _, path := range []string{
			"/console/directory?q=a%00b",
			"/console/directory/user?id=%FF",
			"/console/events?key=k%00",
			"/console/events?title=a%00",
			"/console/events?recipient=a%00",
		} {
			p := h.get(path)
			wantStatus(t, path, p, http.StatusBadRequest)
		}
		wantContains(t, "search", h.get("/console/directory?q=a%00b"), "Search: must not contain the NUL character")
	})
}

// TestEventPageSaysWhyWithheld: the event's page lists who got nothing on
// a channel because of their settings, and why: a preference, a digest.
func TestEventPageSaysWhyWithheld(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		for _, id := range []string{"muted", "digester"} {
			if _, err := h.svc.UpsertUser(ctx, cloche.UserInput{ID: directory.ID(id), Email: id + "@example.org"}); err != nil {
				t.Fatal(err)
			}
		}
		off := false
		if _, err := h.svc.SetPreferences(ctx, "muted", []cloche.PreferenceSetting{
			{Type: "task:status:valid", Channel: cloche.ChannelEmail, Enabled: &off}}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.SetPreferences(ctx, "digester", nil, cloche.WithDigests(&cloche.DigestChange{
			Digest: &cloche.DigestSchedule{Frequency: "weekly", Day: "monday", At: "08:00"}})); err != nil {
			t.Fatal(err)
		}
		res, err := h.svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Devis"},
			cloche.Recipients{UserIDs: []string{"muted", "digester"}})
		if err != nil {
			t.Fatal(err)
		}
		h.mustLogin()
		wantContains(t, "event page", h.get(fmt.Sprintf("/console/events/%d", res.EventID)),
			`id="event-withheld"`,
			`<tr class="withheld-preference"><td><a href="/console/directory/user?id=muted">muted</a></td><td>E-mail</td><td>their preferences turn this channel off</td><td>—</td></tr>`,
			`<tr class="withheld-digest"><td><a href="/console/directory/user?id=digester">digester</a></td><td>E-mail</td><td>held for their digest</td>`)
	})
}

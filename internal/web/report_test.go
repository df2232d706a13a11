package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/cloche/cloche"
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

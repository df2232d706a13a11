package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/cloche/cloche"
)

// TestPersonDigestPage: a person's digest and their categories' on their
// preference page, saved with the rest in one transaction, each bad field
// named next to it, nothing saved then, and a form without the digest
// fields leaving them as they are.
func TestPersonDigestPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		h.mustLogin()
		const userPage = "/console/directory/user?id=11"
		prefs := func() *cloche.Preferences {
			t.Helper()
			p, err := h.svc.Preferences(ctx, "11")
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		save := func(form url.Values) page {
			t.Helper()
			form.Set("csrf", h.token(userPage))
			form.Set("id", "11")
			form.Set("person", "1")
			return h.post("/console/directory/user/preferences", form)
		}

		p := h.get(userPage)
		wantStatus(t, "user page", p, http.StatusOK)
		wantContains(t, "user page", p, `<option value="immediate" selected>immediate</option>`, `name="digest_at" value=""`,
			`name="category_digest_category" value="" placeholder="e.g. task"`)

		good := url.Values{"time_zone": {"Europe/Berlin"}, "type|message:internal|email": {"on"},
			"digest_frequency": {"weekly"}, "digest_at": {"08:30"}, "digest_day": {"monday"},
			"category_digest_category": {"task", "message", ""}, "category_digest_frequency": {"daily", "hourly", ""},
			"category_digest_at": {"18:00", "", ""}, "category_digest_day": {"", "", ""}}
		wantStatus(t, "save", save(good), http.StatusSeeOther)
		want := &cloche.PersonPreferences{TimeZone: "Europe/Berlin", Digest: &cloche.DigestSchedule{Frequency: "weekly", At: "08:30", Day: "monday"},
			CategoryDigests: []cloche.CategoryDigest{
				{Category: "message", DigestSchedule: cloche.DigestSchedule{Frequency: "hourly"}},
				{Category: "task", DigestSchedule: cloche.DigestSchedule{Frequency: "daily", At: "18:00"}},
			}}
		got := prefs()
		if !reflect.DeepEqual(got.PersonPreferences, want) {
			t.Fatalf("saved %+v %+v %+v, want %+v %+v", got.PersonPreferences, got.Digest, got.CategoryDigests, want.Digest, want.CategoryDigests)
		}
		if len(got.Settings) != 1 {
			t.Errorf("settings saved with them: %d, want 1", len(got.Settings))
		}
		wantContains(t, "read back", h.get(userPage), `<option value="weekly" selected>weekly</option>`, `name="digest_at" value="08:30"`,
			`<option value="monday" selected>monday</option>`, `name="category_digest_category" value="task"`, `name="category_digest_at" value="18:00"`,
			`name="category_digest_category" value="message"`, `<option value="hourly" selected>hourly</option>`)

		// The person's other fields alone (an older form): the digests stay.
		wantStatus(t, "no digest fields", save(url.Values{"time_zone": {"Europe/Berlin"}}), http.StatusSeeOther)
		if got := prefs(); !reflect.DeepEqual(got.PersonPreferences, want) {
			t.Errorf("a form without digests changed them: %+v %+v", got.Digest, got.CategoryDigests)
		}

		for _, tc := range []struct {
			name   string
			change url.Values
			errors []string
		}{
			{"bad time", url.Values{"digest_at": {"25:00"}}, []string{`<p class="error" id="digest.at-error">&#34;25:00&#34; is not a time of day as HH:MM`}},
			{"daily without time", url.Values{"digest_frequency": {"daily"}, "digest_at": {""}}, []string{`id="digest.at-error">a daily digest needs a time of day`}},
			{"weekly without day", url.Values{"digest_day": {""}}, []string{`id="digest.day-error">`}},
			{"unknown category", url.Values{"category_digest_category": {"task", "nosuch", ""}},
				[]string{`<p class="error" id="category_digests[1].category-error">unknown category &#34;nosuch&#34;`, `name="category_digest_category" value="nosuch"`}},
			// The empty row between is skipped: the error names the row shown.
			{"bad category time after a skipped row", url.Values{"category_digest_category": {"", "task", "message"}, "category_digest_frequency": {"", "daily", "hourly"},
				"category_digest_at": {"", "7h", ""}, "category_digest_day": {"", "", ""}},
				[]string{`<p class="error" id="category_digests[1].at-error">&#34;7h&#34; is not a time of day`}},
			{"repeated category", url.Values{"category_digest_category": {"task", "task", ""}}, []string{`id="category_digests[1].category-error">repeats`}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"time_zone": {"Asia/Kolkata"}} // a good change that must not be saved either
				for k, v := range good {
					if k != "time_zone" {
						form[k] = v
					}
				}
				for k, v := range tc.change {
					form[k] = v
				}
				r := save(form)
				wantStatus(t, "save", r, http.StatusUnprocessableEntity)
				wantContains(t, "save", r, append(tc.errors, "Nothing saved: ")...)
				if got := prefs(); !reflect.DeepEqual(got.PersonPreferences, want) {
					t.Errorf("a refused form saved something: %+v %+v %+v", got.PersonPreferences, got.Digest, got.CategoryDigests)
				}
			})
		}

		// A category's frequency emptied removes it; immediate again.
		form := url.Values{"digest_frequency": {"immediate"}, "category_digest_category": {"task", "message"}, "category_digest_frequency": {"", "daily"},
			"category_digest_at": {"", "07:00"}, "category_digest_day": {"", ""}}
		wantStatus(t, "remove", save(form), http.StatusSeeOther)
		got = prefs()
		if got.Digest == nil || got.Digest.Frequency != "immediate" || len(got.CategoryDigests) != 1 || got.CategoryDigests[0].Category != "message" {
			t.Errorf("after removing task: %+v %+v", got.Digest, got.CategoryDigests)
		}

		if r := h.post("/console/directory/user/preferences", url.Values{"id": {"11"}, "person": {"1"}, "digest_frequency": {"hourly"}}); r.status != http.StatusForbidden {
			t.Errorf("without the form token: %d, want 403", r.status)
		}
		if got := prefs(); got.Digest.Frequency != "immediate" {
			t.Errorf("digest after a refused post: %+v", got.Digest)
		}
	})
}

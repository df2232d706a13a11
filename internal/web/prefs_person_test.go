package web

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

// TestPersonPreferencePages: a person's time zone, quiet hours and unread
// delay on their page, saved with their channel settings in one
// transaction, each bad field named next to it, and nothing saved then.
func TestPersonPreferencePages(t *testing.T) {
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
			return h.post("/console/directory/user/preferences", form)
		}

		p := h.get(userPage)
		wantStatus(t, "user page", p, http.StatusOK)
		wantContains(t, "user page", p, `name="person" value="1"`, `id="time_zone" name="time_zone" value="" placeholder="Europe/Paris"`,
			`id="quiet_start" name="quiet_start" value=""`, `name="quiet_days" value="saturday">`, `id="email_if_unread_minutes" name="email_if_unread_minutes" value=""`)

		t.Run("save and read back", func(t *testing.T) {
			// The person's digest is not on the form: saving keeps it.
			daily := &cloche.DigestSchedule{Frequency: "daily", At: "08:00"}
			if _, err := h.svc.SetPreferences(ctx, "11", nil, cloche.WithDigests(&cloche.DigestChange{Digest: daily})); err != nil {
				t.Fatal(err)
			}
			r := save(url.Values{"person": {"1"}, "type|message:internal|email": {"on"}, "time_zone": {" America/New_York "},
				"quiet_start": {"21:00"}, "quiet_end": {"08:00"}, "quiet_days": {"sunday", "saturday"}, "email_if_unread_minutes": {"30"}})
			wantStatus(t, "save", r, http.StatusSeeOther)
			got := prefs()
			want := &cloche.PersonPreferences{TimeZone: "America/New_York", QuietHours: &cloche.QuietHours{Start: "21:00", End: "08:00", Days: []string{"saturday", "sunday"}},
				EmailIfUnreadMinutes: new(30), Digest: daily, CategoryDigests: []cloche.CategoryDigest{}}
			if !reflect.DeepEqual(got.PersonPreferences, want) {
				t.Errorf("saved %+v %+v, want %+v %+v", got.PersonPreferences, got.QuietHours, want, want.QuietHours)
			}
			if len(got.Settings) != 1 {
				t.Errorf("settings saved with them: %d, want 1", len(got.Settings))
			}
			after := h.get(userPage)
			wantContains(t, "read back", after, `name="time_zone" value="America/New_York"`, `name="quiet_start" value="21:00"`, `name="quiet_end" value="08:00"`,
				`value="saturday" checked>`, `value="sunday" checked>`, `name="email_if_unread_minutes" value="30"`)
			if strings.Contains(after.body, `value="monday" checked>`) {
				t.Errorf("monday shown quiet")
			}

			// A form without the person's fields leaves them as they are.
			wantStatus(t, "grid only", save(url.Values{"type|message:internal|email": {"off"}}), http.StatusSeeOther)
			if got := prefs(); !reflect.DeepEqual(got.PersonPreferences, want) {
				t.Errorf("a grid-only form changed them: %+v", got.PersonPreferences)
			}

			// Whole days only: both times empty.
			wantStatus(t, "weekend", save(url.Values{"person": {"1"}, "time_zone": {"Asia/Kolkata"}, "quiet_days": {"saturday", "sunday"}}), http.StatusSeeOther)
			if got := prefs(); got.TimeZone != "Asia/Kolkata" || got.QuietHours == nil || len(got.QuietHours.Days) != 2 || got.EmailIfUnreadMinutes != nil {
				t.Errorf("weekend only: %+v %+v", got.PersonPreferences, got.QuietHours)
			}
			wantContains(t, "weekend", h.get(userPage), `name="quiet_start" value=""`, `value="saturday" checked>`)

			// Everything empty: the defaults again.
			wantStatus(t, "clear", save(url.Values{"person": {"1"}}), http.StatusSeeOther)
			if got := prefs(); got.TimeZone != "Europe/Paris" || got.QuietHours != nil || got.EmailIfUnreadMinutes != nil {
				t.Errorf("cleared: %+v", got.PersonPreferences)
			}
			wantContains(t, "cleared", h.get(userPage), `name="time_zone" value="" placeholder="Europe/Paris"`)
		})

		t.Run("bad input", func(t *testing.T) {
			good := url.Values{"person": {"1"}, "time_zone": {"Europe/Berlin"}, "quiet_start": {"22:00"}, "quiet_end": {"07:00"},
				"email_if_unread_minutes": {"15"}, "type|message:internal|email": {"on"}}
			wantStatus(t, "good", save(good), http.StatusSeeOther)
			before := prefs()
			for _, tc := range []struct {
				name   string
				change url.Values
				errors []string
			}{
				{"unknown zone", url.Values{"time_zone": {"Europe/Pari"}},
					[]string{`<p class="error" id="time_zone-error">unknown time zone &#34;Europe/Pari&#34; (did you mean Europe/Paris?)</p>`, `aria-invalid="true"`}},
				{"bad start", url.Values{"quiet_start": {"25:00"}}, []string{`<p class="error" id="quiet_start-error">&#34;25:00&#34; is not a time of day HH:MM`}},
				{"empty window", url.Values{"quiet_start": {"09:00"}, "quiet_end": {"09:00"}}, []string{`<p class="error" id="quiet_end-error">equals start and no days are named`}},
				{"every day", url.Values{"quiet_days": weekDays}, []string{`<p class="error" id="quiet_days-error">names every day`}},
				{"unread not a number", url.Values{"email_if_unread_minutes": {"soon"}}, []string{`<p class="error" id="email_if_unread_minutes-error">&#34;soon&#34; is not a whole number of minutes`}},
				{"unread too long", url.Values{"email_if_unread_minutes": {"99999"}}, []string{`<p class="error" id="email_if_unread_minutes-error">99999 is not a number of minutes from 0 to 10080`}},
				{"all at once", url.Values{"time_zone": {"Mars/Olympus"}, "quiet_end": {"7h"}, "type|message:system|alert": {"off"}},
					[]string{`id="time_zone-error">unknown time zone &#34;Mars/Olympus&#34;`, `id="quiet_end-error">&#34;7h&#34; is not a time of day`,
						`id="err-type|message:system|alert">message:system is mandatory`, "Nothing saved: 3 setting(s) refused, marked below."}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					form := url.Values{"type|message:internal|message": {"off"}} // a good change that must not be saved either
					for k, v := range good {
						form[k] = v
					}
					for k, v := range tc.change {
						form[k] = v
					}
					r := save(form)
					wantStatus(t, "save", r, http.StatusUnprocessableEntity)
					wantContains(t, "save", r, append(tc.errors, "Nothing saved: ")...)
					for k, v := range tc.change { // the page keeps what was typed
						if k == "time_zone" {
							wantContains(t, "kept", r, `name="time_zone" value="`+v[0]+`"`)
						}
					}
					if got := prefs(); !reflect.DeepEqual(got.PersonPreferences, before.PersonPreferences) || !reflect.DeepEqual(got.Effective, before.Effective) {
						t.Errorf("a refused form saved something: %+v, want %+v", got.PersonPreferences, before.PersonPreferences)
					}
				})
			}
			if r := h.post("/console/directory/user/preferences", url.Values{"id": {"11"}, "person": {"1"}, "time_zone": {"UTC"}}); r.status != http.StatusForbidden {
				t.Errorf("without the form token: %d, want 403", r.status)
			}
			if got := prefs(); got.TimeZone != "Europe/Berlin" {
				t.Errorf("zone after a refused post: %s", got.TimeZone)
			}
		})

		t.Run("type unread delay", func(t *testing.T) {
			const edit = "/console/types/edit?key=message:internal"
			wantContains(t, "edit", h.get(edit), `name="email_if_unread_minutes" value="0"`)
			post := func(minutes string) page {
				form := url.Values{"csrf": {h.token(edit)}, "key": {"message:internal"}, "label": {"Internal message"}, "default_channel": {"message"},
					"status_type": {"neutral"}, "email_if_unread_minutes": {minutes}}
				return h.post("/console/types", form)
			}
			wantStatus(t, "set", post("30"), http.StatusSeeOther)
			minutes := func() int {
				ty, err := h.svc.Type(ctx, "message:internal")
				if err != nil {
					t.Fatal(err)
				}
				return ty.EmailIfUnreadMinutes
			}
			if got := minutes(); got != 30 {
				t.Fatalf("type's delay: %d, want 30", got)
			}
			wantContains(t, "types", h.get("/console/types"), "e-mail only if unread after 30 min.", "<th scope=\"col\">E-mail if unread</th>", "<td>after 30 min</td>")
			wantContains(t, "edit", h.get(edit), `name="email_if_unread_minutes" value="30"`)
			for _, tc := range []struct{ in, error string }{
				{"-5", `<p class="error" id="email_if_unread_minutes-error">-5 is not a number of minutes from 0 to 10080`},
				{"half an hour", `<p class="error" id="email_if_unread_minutes-error">&#34;half an hour&#34; is not a whole number of minutes`},
			} {
				r := post(tc.in)
				wantStatus(t, tc.in, r, http.StatusUnprocessableEntity)
				wantContains(t, tc.in, r, tc.error, `value="`+tc.in+`"`)
				if got := minutes(); got != 30 {
					t.Errorf("%s: the delay became %d", tc.in, got)
				}
			}
			wantStatus(t, "none", post("0"), http.StatusSeeOther)
			if got := minutes(); got != 0 {
				t.Errorf("type's delay: %d, want 0", got)
			}
		})
	})
}

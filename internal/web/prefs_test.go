package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cloche/cloche"
)

// selected is the value chosen in the select named name of body.
func selected(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<select name="` + regexp.QuoteMeta(name) + `"[^>]*>(.*?)</select>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no select %s in the page", name)
	}
	v := regexp.MustCompile(`value="(\w*)" selected`).FindStringSubmatch(m[1])
	if v == nil {
		t.Fatalf("select %s: nothing selected", name)
	}
	return v[1]
}

func effective(t *testing.T, p *cloche.Preferences, typ string) []cloche.Channel {
	t.Helper()
	for _, tc := range p.Effective {
		if tc.Type == typ {
			return tc.Channels
		}
	}
	t.Fatalf("no type %s", typ)
	return nil
}

func TestPreferencePages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		h.mustLogin()
		const userPage = "/console/directory/user?id=11"
		prefs := func(user string) *cloche.Preferences {
			p, err := h.svc.Preferences(ctx, user)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		post := func(path string, form url.Values) page {
			form.Set("csrf", h.token(userPage))
			return h.post(path, form)
		}

		p := h.get(userPage)
		wantStatus(t, "user page", p, http.StatusOK)
		wantContains(t, "user page", p, `id="prefs-h">Preferences<`, `aria-label="E-mail for Internal message"`,
			`<span class="locked">on (mandatory)</span>`, `<span class="tag">mandatory</span>`, `name="id" value="11"`)
		if got := selected(t, p.body, "type|message:internal|email"); got != "" {
			t.Errorf("message:internal e-mail before any setting: %q, want the default", got)
		}
		if !strings.Contains(p.body, `<option value="" selected>default (off)</option>`) || !strings.Contains(p.body, `<option value="" selected>default (on)</option>`) {
			t.Errorf("the defaults are not said")
		}

		t.Run("save", func(t *testing.T) {
			r := post("/console/directory/user/preferences", url.Values{"id": {"11"},
				"type|message:internal|email": {"on"}, "type|message:internal|message": {"off"}, "category|task|email": {"off"}, "type|task:status:valid|alert": {""}})
			wantStatus(t, "save", r, http.StatusSeeOther)
			if r.location() != "/console/directory/user?id=11#prefs-h" {
				t.Errorf("redirected to %s", r.location())
			}
			if got := effective(t, prefs("11"), "message:internal"); !slices.Equal(got, []cloche.Channel{cloche.ChannelEmail}) {
				t.Errorf("message:internal reaches %v, want e-mail only", got)
			}
			if got := effective(t, prefs("11"), "task:status:valid"); slices.Contains(got, cloche.ChannelEmail) {
				t.Errorf("task:status:valid still e-mailed after the category's e-mail off: %v", got)
			}
			after := h.get(userPage)
			wantContains(t, "after saving", after, "Preferences of Farid Haddad saved: 3 setting(s).")
			for name, want := range map[string]string{"type|message:internal|email": "on", "type|message:internal|message": "off", "category|task|email": "off", "type|task:status:valid|email": ""} {
				if got := selected(t, after.body, name); got != want {
					t.Errorf("%s after saving: %q, want %q", name, got, want)
				}
			}
		})

		t.Run("bad input", func(t *testing.T) {
			before := prefs("11").Settings
			for _, tc := range []struct {
				name  string
				form  url.Values
				error string
			}{
				{"not a choice", url.Values{"type|message:internal|email": {"maybe"}}, `<p class="error" id="err-type|message:internal|email">&#34;maybe&#34; is not a choice`},
				{"mandatory off", url.Values{"type|message:internal|email": {"on"}, "type|message:system|alert": {"off"}},
					`<p class="error" id="err-type|message:system|alert">message:system is mandatory: its default channel alert cannot be turned off</p>`},
			} {
				t.Run(tc.name, func(t *testing.T) {
					tc.form.Set("id", "11")
					r := post("/console/directory/user/preferences", tc.form)
					wantStatus(t, "save", r, http.StatusUnprocessableEntity)
					wantContains(t, "save", r, tc.error, "Nothing saved: 1 setting(s) refused, marked below.")
					if got := prefs("11").Settings; len(got) != len(before) {
						t.Errorf("a refused form changed the settings: %d, want %d", len(got), len(before))
					}
				})
			}
			r := post("/console/directory/user/preferences", url.Values{"id": {"11"}, "type|message:internal|email": {"maybe"}})
			wantContains(t, "aria", r, `aria-invalid="true" aria-describedby="err-type|message:internal|email"`)
			if p := post("/console/directory/user/preferences", url.Values{"id": {"nope"}}); p.status != http.StatusNotFound {
				t.Errorf("unknown user: %d", p.status)
			}
			if p := h.post("/console/directory/user/preferences", url.Values{"id": {"11"}, "type|message:internal|email": {"off"}}); p.status != http.StatusForbidden {
				t.Errorf("without the form token: %d, want 403", p.status)
			}
		})

		t.Run("defaults", func(t *testing.T) {
			d := h.get("/console/types/defaults")
			wantStatus(t, "defaults", d, http.StatusOK)
			wantContains(t, "defaults", d, `action="/console/types/defaults"`, `<span class="locked">on (mandatory)</span>`)
			r := post("/console/types/defaults", url.Values{"type|message:internal|email": {"on"}})
			wantStatus(t, "save defaults", r, http.StatusSeeOther)
			org, err := h.svc.DefaultPreferences(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := effective(t, org, "message:internal"); !slices.Equal(got, []cloche.Channel{cloche.ChannelEmail, cloche.ChannelMessage}) {
				t.Errorf("organisation default of message:internal: %v", got)
			}
			wantContains(t, "after saving", h.get("/console/types/defaults"), "Default preferences saved: 1 setting(s).")
			// Someone who set nothing inherits it; the types page says it.
			if got := selected(t, h.get("/console/directory/user?id=2").body, "type|message:internal|email"); got != "" {
				t.Errorf("user 2: %q", got)
			}
			wantContains(t, "user 2", h.get("/console/directory/user?id=2"), `<option value="" selected>default (on)</option>`)
			wantContains(t, "types", h.get("/console/types"), "<td>E-mail, Bell menu (message)</td>", "Reaches by default", "Mandatory")
			bad := post("/console/types/defaults", url.Values{"type|message:system|alert": {"off"}})
			wantStatus(t, "mandatory off by default", bad, http.StatusUnprocessableEntity)
			wantContains(t, "mandatory off by default", bad, `id="err-type|message:system|alert"`)
		})

		t.Run("mandatory", func(t *testing.T) {
			form := url.Values{"key": {"message:internal"}, "label": {"Internal message"}, "default_channel": {"message"}, "status_type": {"neutral"}}
			form.Set("mandatory", "1")
			wantStatus(t, "make mandatory", post("/console/types", form), http.StatusSeeOther)
			if ty, err := h.svc.Type(ctx, "message:internal"); err != nil || !ty.Mandatory {
				t.Fatalf("message:internal not mandatory: %v %v", ty, err)
			}
			wantContains(t, "types", h.get("/console/types"), "Type message:internal saved: Bell menu (message) by default, neutral, mandatory.")
			wantContains(t, "edit", h.get("/console/types/edit?key=message:internal"), `name="mandatory" value="1" aria-describedby="mandatory-hint" checked`)
			form.Del("mandatory")
			wantStatus(t, "not mandatory", post("/console/types", form), http.StatusSeeOther)
			if ty, err := h.svc.Type(ctx, "message:internal"); err != nil || ty.Mandatory {
				t.Fatalf("message:internal still mandatory: %v %v", ty, err)
			}
		})
	})
}

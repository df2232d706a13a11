package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/demo"
)

var managers = cloche.Recipients{GroupNames: []string{"manager"}}

// notification is a message:internal due in the given time (now when 0).
func notification(title string, in time.Duration) cloche.Notification {
	n := cloche.Notification{Key: "message:internal", Title: title, Body: "Body of " + title}
	if in > 0 {
		due := time.Now().Add(in)
		n.DueAt = &due
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// loadDemo loads the demo cooperative.
func loadDemo(t testing.TB, svc *cloche.Service) {
	t.Helper()
	if _, err := demo.Load(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
}

func TestPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		published, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Board meeting <Friday>", Body: "<b>bring</b> the minutes",
			URL:     "https://erp.example.org/meetings/7?a=1&b=2",
			Actions: []cloche.Action{{Label: "Voir <l'ordre du jour>", URL: "https://erp.example.org/meetings/7/agenda"}, {Label: "Je viens", Callback: "https://erp.example.org/hooks/rsvp/7"}}},
			managers)
		if err != nil {
			t.Fatal(err)
		}
		mail, err := h.svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Invoice validated"}, cloche.Recipients{CompanyID: "10"})
		if err != nil {
			t.Fatal(err)
		}
		scheduled, err := h.svc.Notify(ctx, notification("Workshop tomorrow", 24*time.Hour), cloche.Recipients{UserIDs: []string{"10"}})
		if err != nil {
			t.Fatal(err)
		}
		h.mustLogin()

		tests := []struct {
			path string
			want []string
		}{
			{"/console/", []string{"Notifications today", `data-channel="message">3<`, `data-channel="email">1<`, "Board meeting &lt;Friday&gt;", `href="/console/events?status=pending">1<`}},
			{"/console/send", []string{`<option value="message:internal" selected>`, "Europe/Paris"}},
			{"/console/events", []string{"Board meeting &lt;Friday&gt;", "Invoice validated", "Workshop tomorrow"}},
			{"/console/events?status=pending", []string{"Workshop tomorrow"}},
			{"/console/events/" + itoa(published.EventID), []string{"Board meeting &lt;Friday&gt;", "&lt;b&gt;bring&lt;/b&gt; the minutes", "groups manager", `<span class="status status-published" id="event-status">`,
				`<a href="https://erp.example.org/meetings/7?a=1&amp;b=2" rel="noopener noreferrer">`, "Voir &lt;l&#39;ordre du jour&gt;: opens",
				"Je viens: Cloche calls <code>https://erp.example.org/hooks/rsvp/7</code>"}},
			{"/console/events/" + itoa(mail.EventID), []string{"contact@atelier-nord.example.org", "queued"}},
			{"/console/events/" + itoa(scheduled.EventID), []string{`id="cancel-event"`, `person <a href="/console/directory/user?id=10">Emma Petit</a>`}},
			{"/console/types", []string{"message:internal", "Internal message", "built in"}},
			{"/console/types/new", []string{`name="new" value="1"`}},
			{"/console/types/edit?key=" + url.QueryEscape("message:system"), []string{`value="System message"`, `<option value="alert" selected>`, `<option value="caution" selected>`}},
			{"/console/deliveries", []string{"contact@atelier-nord.example.org"}},
			{"/console/deliveries?state=queued&event=" + itoa(mail.EventID), []string{"contact@atelier-nord.example.org"}},
			{"/console/directory", []string{"Alice Martin", "Léo Garnier"}},
			{"/console/directory?q=studio", []string{"Hugo Moreau", "Inès Laurent", "Karima Benali"}},
			{"/console/directory/user?id=2", []string{"Bruno Lefèvre", "manager", "Emma Petit", "Gaëlle Roux", "Board meeting &lt;Friday&gt;"}},
			{"/console/directory/user?id=13", []string{"Boulangerie du Port (20), Studio Graphique Sud (30)", "Chloé Durand"}},
		}
		for _, tc := range tests {
			t.Run(tc.path, func(t *testing.T) {
				p := h.get(tc.path)
				wantStatus(t, "GET "+tc.path, p, http.StatusOK)
				wantContains(t, "GET "+tc.path, p, tc.want...)
				if strings.Contains(p.body, "<b>bring</b>") {
					t.Errorf("GET %s: a body's HTML is rendered, not shown as text", tc.path)
				}
			})
		}
		notFound := []string{"/console/events/999999", "/console/events/abc", "/console/types/edit?key=nope", "/console/directory/user?id=nope", "/console/nowhere"}
		for _, path := range notFound {
			if p := h.get(path); p.status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404", path, p.status)
			}
		}
		if p := h.get("/console/events?status=lost"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "not an event status") {
			t.Errorf("bad status filter: %d", p.status)
		}
		css := h.get("/console/static/console.css")
		if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || css.header.Get("ETag") == "" {
			t.Errorf("CSS: %d %v", css.status, css.header)
		}
	})
}

func TestSendForm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		loadDemo(t, h.svc)
		h.mustLogin()

		t.Run("empty title", func(t *testing.T) {
			p := h.send(url.Values{"key": {"message:internal"}, "title": {"  "}, "body": {"Kept <body>"}, "groups": {"manager, admin"},
				"context": {"invoice:42"}, "channel": {"alert"}})
			wantStatus(t, "send", p, http.StatusUnprocessableEntity)
			wantContains(t, "send", p,
				`id="title-error">must not be empty<`,
				`aria-invalid="true" aria-describedby="title-error"`,
				`value="manager, admin"`, `>Kept &lt;body&gt;</textarea>`, `value="invoice:42"`,
				`<option value="alert" selected>`, `<option value="message:internal" selected>`)
		})

		tests := []struct {
			name   string
			form   url.Values
			errors map[string]string // form field → message
		}{
			{"no recipient", url.Values{"key": {"message:internal"}, "title": {"Hi"}},
				map[string]string{"recipients": "Name at least one recipient: a group, a person, a company"}},
			{"unknown type", url.Values{"key": {"no:such"}, "title": {"Hi"}, "user_ids": {"1"}},
				map[string]string{"key": `unknown notification type &#34;no:such&#34; (create it on the Types page)`}},
			{"bad dates and context", url.Values{"key": {"message:internal"}, "title": {"Hi"}, "user_ids": {"1"},
				"due": {"tomorrow"}, "until": {"2020-01-01T10:00"}, "context": {"invoice"}, "check_url": {"ftp://x"}},
				map[string]string{"due": "is not a date and time", "context": "is not TYPE:ID", "check_url": "is not an absolute http(s) URL", "until": "is in the past"}},
			{"until before due", url.Values{"key": {"message:internal"}, "title": {"Hi"}, "user_ids": {"1"},
				"due": {"2099-01-02T10:00"}, "until": {"2099-01-01T10:00"}},
				map[string]string{"until": "must be after the due time"}},
			{"year 0000", url.Values{"key": {"message:internal"}, "title": {"Hi"}, "user_ids": {"1"}, "due": {"0000-01-01T10:00"}},
				map[string]string{"due": "is out of range (1970 to 9000)"}},
			{"bad channel", url.Values{"key": {"message:internal"}, "title": {"Hi"}, "user_ids": {"1"}, "channel": {"pigeon"}},
				map[string]string{"channel": "is not a channel"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := h.send(tc.form)
				wantStatus(t, "send", p, http.StatusUnprocessableEntity)
				// The console's words, not the API's field names.
				for _, api := range []string{"group_names", "user_ids,", "follower_user_id", "due_datetime", "force_channel"} {
					if strings.Contains(p.body, api) {
						t.Errorf("the page names the API field %s", api)
					}
				}
				for field, msg := range tc.errors {
					marker := `id="` + field + `-error">`
					i := strings.Index(p.body, marker)
					if i < 0 {
						t.Errorf("no error shown for %s\n%s", field, p.body)
						continue
					}
					if !strings.HasPrefix(p.body[i+len(marker):], msg) && !strings.Contains(p.body[i:i+len(marker)+200], msg) {
						t.Errorf("error for %s = %q…, want %q", field, p.body[i:min(len(p.body), i+len(marker)+120)], msg)
					}
				}
			})
		}

		t.Run("valid, now", func(t *testing.T) {
			before := latestEvent(t, h.svc)
			p := h.send(url.Values{"key": {"message:internal"}, "title": {"Hello from the console"}, "body": {"Line 1\r\nLine 2"},
				"groups": {"manager"}, "user_ids": {"10 11, 999"}, "context": {"invoice:7"}})
			wantStatus(t, "send", p, http.StatusSeeOther)
			ev := latestEvent(t, h.svc)
			if ev == nil || (before != nil && ev.ID == before.ID) {
				t.Fatal("no event created")
			}
			if p.location() != "/console/events/"+itoa(ev.ID) {
				t.Errorf("redirected to %q, want the event's page", p.location())
			}
			if ev.Status != cloche.EventPublished || ev.Title != "Hello from the console" || ev.Body != "Line 1\nLine 2" ||
				ev.ContextType != "invoice" || ev.ContextID != "7" || ev.Counts[cloche.ChannelMessage] != 5 {
				t.Errorf("event = %+v", ev)
			}
			page := h.get(p.location())
			wantContains(t, "event page", page, "published on Bell menu (message): 5 users reached.", "Unknown user ids (not in the directory): 999.", `class="flash flash-warn"`)
			if again := h.get(p.location()); strings.Contains(again.body, "users reached") {
				t.Error("the message shows again on reload")
			}
		})

		t.Run("valid, scheduled with expiry and forced channel", func(t *testing.T) {
			loc := h.svc.Location()
			due := time.Now().In(loc).Add(48 * time.Hour).Truncate(time.Minute)
			until := due.Add(24 * time.Hour)
			p := h.send(url.Values{"key": {"workshop:reminder"}, "title": {"Workshop"}, "follower_of": {"10"}, "company_id": {"30"},
				"channel": {"header_message"}, "due": {due.Format("2006-01-02T15:04")}, "until": {until.Format("2006-01-02T15:04")},
				"check_url": {"https://erp.example.org/check/1"}})
			wantStatus(t, "send", p, http.StatusSeeOther)
			ev := latestEvent(t, h.svc)
			if ev.Status != cloche.EventPending || ev.ForceChannel != cloche.ChannelHeaderMessage || ev.Recipients.FollowerUserID != "10" ||
				ev.Recipients.CompanyID != "30" || ev.CheckURL != "https://erp.example.org/check/1" {
				t.Errorf("event = %+v", ev)
			}
			if ev.DueAt == nil || !ev.DueAt.Equal(due) || ev.Until == nil || !ev.Until.Equal(until) {
				t.Errorf("due, until = %v, %v; want %v, %v (read in %s)", ev.DueAt, ev.Until, due, until, loc)
			}
			wantContains(t, "event page", h.get(p.location()), "scheduled for "+due.Format("2006-01-02 15:04")+" on Banner (header_message).")
		})
	})
}

// latestEvent returns the newest event, or nil.
func latestEvent(t testing.TB, svc *cloche.Service) *cloche.Event {
	t.Helper()
	evs, err := svc.Events(context.Background(), cloche.EventFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		return nil
	}
	return &evs[0]
}

func TestCancelFromConsole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		loadDemo(t, h.svc)
		h.mustLogin()
		res, err := h.svc.Notify(context.Background(), notification("Reminder", time.Hour), managers)
		if err != nil {
			t.Fatal(err)
		}
		path := "/console/events/" + itoa(res.EventID)
		token := h.token(path)
		// Without confirm=1 the POST only asks to confirm.
		p := h.post(path+"/cancel", url.Values{"csrf": {token}})
		wantStatus(t, "cancel without confirmation", p, http.StatusOK)
		wantContains(t, "confirmation page", p, "Cancel event "+itoa(res.EventID)+"?", "Reminder",
			`name="confirm" value="1"`, `name="csrf" value="`+token+`"`, `id="confirm-cancel"`, `href="`+path+`"`)
		if ev, err := h.svc.Event(context.Background(), res.EventID); err != nil || ev.Status != cloche.EventPending {
			t.Fatalf("event after an unconfirmed cancel = %v, %v; want it still pending", ev, err)
		}
		p = h.post(path+"/cancel", url.Values{"csrf": {token}, "confirm": {"1"}})
		wantStatus(t, "cancel", p, http.StatusSeeOther)
		ev, err := h.svc.Event(context.Background(), res.EventID)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Status != cloche.EventCancelled || ev.StatusReason != "cancelled by id" {
			t.Errorf("event after cancel = %s (%s)", ev.Status, ev.StatusReason)
		}
		page := h.get(path)
		wantContains(t, "event page", page, "Event "+itoa(res.EventID)+" cancelled.", "status-cancelled")
		if strings.Contains(page.body, `id="cancel-event"`) {
			t.Error("a cancelled event still offers to cancel it")
		}
		p = h.post(path+"/cancel", url.Values{"csrf": {token}})
		wantStatus(t, "ask to cancel again", p, http.StatusSeeOther)
		wantContains(t, "event page", h.get(path), "Not cancelled: event "+itoa(res.EventID)+" is cancelled.")
		p = h.post(path+"/cancel", url.Values{"csrf": {token}, "confirm": {"1"}})
		wantStatus(t, "cancel again", p, http.StatusSeeOther)
		wantContains(t, "event page", h.get(path), "Not cancelled: event "+itoa(res.EventID)+" is already cancelled.")
		for _, confirm := range []string{"", "1"} {
			wantStatus(t, "cancel a missing event", h.post("/console/events/999999/cancel", url.Values{"csrf": {token}, "confirm": {confirm}}), http.StatusNotFound)
		}
	})
}

func TestTypesForm(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		h.mustLogin()
		ctx := context.Background()
		save := func(form url.Values) page {
			form.Set("csrf", h.token("/console/types"))
			return h.post("/console/types", form)
		}
		p := save(url.Values{"new": {"1"}, "key": {"invoice:late"}, "label": {"Late invoice"}, "default_channel": {"email"}, "status_type": {"caution"}})
		wantStatus(t, "create", p, http.StatusSeeOther)
		got, err := h.svc.Type(ctx, "invoice:late")
		if err != nil {
			t.Fatal(err)
		}
		if got.Label != "Late invoice" || got.DefaultChannel != cloche.ChannelEmail || got.StatusType != "caution" {
			t.Errorf("created type = %+v", got)
		}
		wantContains(t, "types page", h.get("/console/types"), "Type invoice:late created: E-mail by default, caution.", "Late invoice")

		errs := []struct {
			name  string
			form  url.Values
			field string
			msg   string
		}{
			{"existing key", url.Values{"new": {"1"}, "key": {"invoice:late"}, "label": {"x"}, "default_channel": {"email"}, "status_type": {"neutral"}}, "key", "exists already"},
			{"key with a space", url.Values{"new": {"1"}, "key": {"bad key"}, "default_channel": {"email"}, "status_type": {"neutral"}}, "key", "must not contain spaces"},
			{"empty key", url.Values{"new": {"1"}, "key": {""}, "default_channel": {"email"}, "status_type": {"neutral"}}, "key", "must not be empty"},
			{"bad channel", url.Values{"new": {"1"}, "key": {"x:y"}, "default_channel": {"fax"}, "status_type": {"neutral"}}, "default_channel", "is not a channel"},
			{"bad status type", url.Values{"key": {"invoice:late"}, "label": {"x"}, "default_channel": {"email"}, "status_type": {"shiny"}}, "status_type", "is not a status type"},
			{"empty label", url.Values{"key": {"invoice:late"}, "label": {" "}, "default_channel": {"email"}, "status_type": {"neutral"}}, "label", "must not be empty"},
		}
		for _, tc := range errs {
			t.Run(tc.name, func(t *testing.T) {
				p := save(tc.form)
				wantStatus(t, "save", p, http.StatusUnprocessableEntity)
				wantContains(t, "save", p, `id="`+tc.field+`-error">`+html.EscapeString(""), tc.msg)
			})
		}
		p = save(url.Values{"key": {"message:system"}, "label": {"Maintenance"}, "default_channel": {"header_message"}, "status_type": {"neutral"}})
		wantStatus(t, "edit", p, http.StatusSeeOther)
		got, err = h.svc.Type(ctx, "message:system")
		if err != nil {
			t.Fatal(err)
		}
		if got.Label != "Maintenance" || got.DefaultChannel != cloche.ChannelHeaderMessage || got.StatusType != "neutral" || !got.Builtin {
			t.Errorf("edited type = %+v", got)
		}
		wantStatus(t, "edit a missing type", save(url.Values{"key": {"nope:nope"}, "label": {"x"}, "default_channel": {"email"}, "status_type": {"neutral"}}), http.StatusNotFound)
	})
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

var eventLinkRE = regexp.MustCompile(`<td><a href="/console/events/(\d+)">`)

// eventIDs lists the events a page of the events list shows, in order.
func eventIDs(body string) []string {
	var ids []string
	for _, m := range eventLinkRE.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// link reads the address of the link with that id on the page ("" when
// there is none).
func link(body, id string) string {
	m := regexp.MustCompile(`<a href="([^"]+)" id="` + id + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// TestEventsPageBothWays: the events list has a total, a first page, a
// previous and a next page, and the pages join up without a gap or an
// overlap, searching by title, type, context and recipient.
func TestEventsPageBothWays(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		for i := range 120 {
			n := cloche.Notification{Key: "message:internal", Title: fmt.Sprintf("Invoice %03d", i)}
			r := cloche.Recipients{UserIDs: []string{"10"}}
			if i%2 == 1 {
				n.Title = fmt.Sprintf("Workshop %03d", i)
				r = cloche.Recipients{UserIDs: []string{"12"}}
				n.Context = &cloche.Context{Type: "workshop", ID: fmt.Sprint(i % 3)}
			}
			if _, err := h.svc.Notify(ctx, n, r); err != nil {
				t.Fatal(err)
			}
		}
		h.mustLogin()

		p := h.get("/console/events")
		wantStatus(t, "first page", p, http.StatusOK)
		wantContains(t, "first page", p, "120 events, 50 on this page")
		if link(p.body, "page-first") != "" || link(p.body, "page-prev") != "" {
			t.Errorf("the first page links to a first or previous page")
		}
		var all []string
		pages := []string{}
		for path := "/console/events"; path != ""; path = link(p.body, "page-next") {
			p = h.get(path)
			wantStatus(t, path, p, http.StatusOK)
			all = append(all, eventIDs(p.body)...)
			pages = append(pages, path)
		}
		if len(all) != 120 || all[0] != "120" || all[119] != "1" || len(pages) != 3 {
			t.Fatalf("walking forward: %d events on %d pages, from %v", len(all), len(pages), all[:min(3, len(all))])
		}
		// Back from the last page: the previous page is the second one.
		prev := link(p.body, "page-prev")
		if prev == "" || link(p.body, "page-first") == "" {
			t.Fatalf("the last page has no previous or first page link")
		}
		back := h.get(prev)
		if got := strings.Join(eventIDs(back.body), ","); got != strings.Join(all[50:100], ",") {
			t.Errorf("previous page = %s, want %s", got, strings.Join(all[50:100], ","))
		}
		back = h.get(link(back.body, "page-prev"))
		if got := strings.Join(eventIDs(back.body), ","); got != strings.Join(all[:50], ",") {
			t.Errorf("previous of the second page = %s, want the first", got)
		}
		if link(back.body, "page-prev") != "" {
			t.Errorf("the first page, reached back, still offers a previous page")
		}

		for _, tc := range []struct {
			query string
			total string
			first string
		}{
			{"title=workshop", "60 events", "Workshop 119"},
			{"title=" + url.QueryEscape("invoice 00"), "5 events", "Invoice 008"}, // 000, 002, … 008
			{"context=workshop:1", "20 events", "Workshop 115"},
			{"recipient=12", "60 events", "Workshop 119"},
			{"recipient=" + url.QueryEscape("Gaëlle"), "60 events", "Workshop 119"}, // by name: one person
			{"recipient=emma%40atelier-nord.example.org&title=invoice", "60 events", "Invoice 118"},
			{"recipient=12&title=invoice", "0 events", ""},
		} {
			p := h.get("/console/events?" + tc.query)
			wantStatus(t, tc.query, p, http.StatusOK)
			if tc.first == "" {
				wantContains(t, tc.query, p, "No event matches.")
				continue
			}
			wantContains(t, tc.query, p, `<p class="total" id="list-total">`+tc.total, "<td>"+tc.first+"</td>")
		}
		// A person's page leads to the events that reached them.
		wantContains(t, "person", h.get("/console/directory/user?id=12"), `<a href="/console/events?recipient=12" id="user-events">Every event that reached Gaëlle Roux</a>`)
		// A name several people have: the console asks which.
		p = h.get("/console/events?recipient=example.org")
		wantStatus(t, "ambiguous recipient", p, http.StatusBadRequest)
		wantContains(t, "ambiguous recipient", p, "several people match")
		p = h.get("/console/events?recipient=nobody-here")
		wantStatus(t, "unknown recipient", p, http.StatusBadRequest)
		wantContains(t, "unknown recipient", p, "nobody in the directory")
	})
}

// TestBulkCancel: ticking pending events and confirming cancels those
// still pending, in one go; the page in between lists them.
func TestBulkCancel(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		var pending []int64
		for i := range 3 {
			res, err := h.svc.Notify(ctx, notification(fmt.Sprint("Later ", i), 30*24*time.Hour), managers)
			if err != nil {
				t.Fatal(err)
			}
			pending = append(pending, res.EventID)
		}
		published, err := h.svc.Notify(ctx, notification("Now", 0), managers)
		if err != nil {
			t.Fatal(err)
		}
		h.mustLogin()
		list := h.get("/console/events")
		for _, id := range pending {
			wantContains(t, "events list", list, fmt.Sprintf(`name="id" value="%d" id="select-%d"`, id, id))
		}
		if strings.Contains(list.body, fmt.Sprintf(`id="select-%d"`, published.EventID)) {
			t.Errorf("a published event can be selected for cancelling")
		}
		token := h.token("/console/events")
		// Cancel one of them on its own meanwhile: it is left out.
		if err := h.svc.CancelEvent(ctx, pending[2]); err != nil {
			t.Fatal(err)
		}
		form := url.Values{"csrf": {token}, "id": {itoa(pending[0]), itoa(pending[1]), itoa(pending[2]), itoa(published.EventID)}}
		confirm := h.post("/console/events/cancel", form)
		wantStatus(t, "confirmation", confirm, http.StatusOK)
		wantContains(t, "confirmation", confirm, "Cancel these 2 pending events?", "Later 0", "Later 1", `id="confirm-cancel"`,
			fmt.Sprintf("%d (cancelled)", pending[2]), fmt.Sprintf("%d (published)", published.EventID))
		for _, id := range pending[:2] {
			if ev, _ := h.svc.Event(ctx, id); ev.Status != cloche.EventPending {
				t.Fatalf("event %d is %s before confirming", id, ev.Status)
			}
		}
		form.Set("confirm", "1")
		done := h.post("/console/events/cancel", form)
		wantStatus(t, "confirmed", done, http.StatusSeeOther)
		after := h.get(done.location())
		wantContains(t, "after", after, "2 events cancelled. 2 no longer pending")
		for _, id := range pending {
			if ev, _ := h.svc.Event(ctx, id); ev.Status != cloche.EventCancelled {
				t.Errorf("event %d is %s, want cancelled", id, ev.Status)
			}
		}
		if ev, _ := h.svc.Event(ctx, published.EventID); ev.Status != cloche.EventPublished {
			t.Errorf("the published event became %s", ev.Status)
		}
		// Without the form token: refused.
		wantStatus(t, "no token", h.post("/console/events/cancel", url.Values{"id": {"1"}, "confirm": {"1"}}), http.StatusForbidden)
	})
}

// TestEventRecipients: an event's page lists the people it reached by
// name, per channel shown and read (and when), their e-mails' state, and
// the read rate.
func TestEventRecipients(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		res, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Board"}, managers)
		if err != nil {
			t.Fatal(err)
		}
		page, err := h.svc.Inbox(ctx, cloche.InboxQuery{UserID: "2", All: true, Limit: 5})
		if err != nil || len(page.Items) == 0 {
			t.Fatalf("inbox of 2: %v", err)
		}
		if err := h.svc.MarkRead(ctx, "2", page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		mail, err := h.svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Invoice"}, cloche.Recipients{UserIDs: []string{"10", "11"}})
		if err != nil {
			t.Fatal(err)
		}
		h.mustLogin()
		p := h.get("/console/events/" + itoa(res.EventID))
		wantStatus(t, "event", p, http.StatusOK)
		wantContains(t, "event", p, "Who received it", "3 people.", `<strong id="read-rate">1 of 3</strong> in-app notifications (33 %)`,
			`<a href="/console/directory/user?id=1">Alice Martin</a>`, `<a href="/console/directory/user?id=2">Bruno Lefèvre</a>`,
			`<a href="/console/directory/user?id=3">Chloé Durand</a>`, `<span class="read">read`, `<span class="unread-note">unread</span>`,
			"<th scope=\"col\">Bell menu (message)</th>")
		if strings.Count(p.body, `<span class="read">read`) != 1 || strings.Count(p.body, `<span class="unread-note">unread</span>`) != 2 {
			t.Errorf("want one read and two unread")
		}
		p = h.get("/console/events/" + itoa(mail.EventID))
		wantContains(t, "e-mail event", p, "2 people.", "E-mails: 0 of 2 sent.", "Emma Petit", "Farid Haddad", `<span class="status status-queued">queued</span>`)
	})
}

// TestDirectoryNames: the directory names companies and followers, and
// says how many people match.
func TestDirectoryNames(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		loadDemo(t, h.svc)
		h.mustLogin()
		p := h.get("/console/directory?q=studio")
		wantStatus(t, "directory", p, http.StatusOK)
		wantContains(t, "directory", p, "Boulangerie du Port, Studio Graphique Sud", `<a href="/console/directory/user?id=3">Chloé Durand</a>`,
			`id="list-total">1–3 of 3 people`)
		if strings.Contains(p.body, "<td>20, 30</td>") {
			t.Errorf("the directory shows company ids")
		}
	})
}

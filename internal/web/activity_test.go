package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

// seedHistory publishes events now and moves them into the past, as if
// the service had run for weeks: 3 bell notifications 2 hours ago, 2
// e-mails 3 days ago (one sent, one failed), 3 bell notifications 5 hours
// ago published 90 seconds after their due time, 3 more 40 days ago
// (outside every chart), and one push 4 hours ago.
func seedHistory(t *testing.T, dbURL string, svc *cloche.Service, now time.Time) {
	t.Helper()
	ctx := context.Background()
	notify := func(n cloche.Notification, r cloche.Recipients, opts ...cloche.NotifyOption) int64 {
		t.Helper()
		res, err := svc.Notify(ctx, n, r, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return res.EventID
	}
	move := func(id int64, published time.Time) {
		testdb.Exec(t, dbURL, `UPDATE events SET published_at = ?, created_at = ? WHERE id = ?`, published, published, id)
	}
	move(notify(cloche.Notification{Key: "message:internal", Title: "Two hours ago"}, managers), now.Add(-2*time.Hour))
	mail := notify(cloche.Notification{Key: "task:status:valid", Title: "Three days ago"}, cloche.Recipients{UserIDs: []string{"10", "11"}})
	move(mail, now.Add(-72*time.Hour))
	testdb.Exec(t, dbURL, `UPDATE deliveries SET created_at = ?, updated_at = ? WHERE event_id = ?`, now.Add(-72*time.Hour), now.Add(-72*time.Hour), mail)
	testdb.Exec(t, dbURL, `UPDATE deliveries SET state = 'sent', sent_at = ? WHERE event_id = ? AND user_id = '10'`, now.Add(-72*time.Hour), mail)
	testdb.Exec(t, dbURL, `UPDATE deliveries SET state = 'failed' WHERE event_id = ? AND user_id = '11'`, mail)
	late := notify(cloche.Notification{Key: "message:internal", Title: "Five hours ago, late"}, managers)
	move(late, now.Add(-5*time.Hour))
	testdb.Exec(t, dbURL, `UPDATE events SET due_at = ? WHERE id = ?`, now.Add(-5*time.Hour-90*time.Second), late)
	move(notify(cloche.Notification{Key: "message:internal", Title: "Forty days ago"}, managers), now.Add(-40*24*time.Hour))
	// Push is the fifth channel: its reach is kept with the others'.
	move(notify(cloche.Notification{Key: "message:internal", Title: "Pushed 4 hours ago"}, cloche.Recipients{UserIDs: []string{"10"}},
		cloche.ForceChannel(cloche.ChannelPush)), now.Add(-4*time.Hour))
}

var chartTotalRE = regexp.MustCompile(`<figure class="chart" id="(chart-[a-z]+)" data-total="(\d+)">`)

// TestActivityCharts: the dashboard's charts add up a seeded history
// right: per hour over 24 hours, per day over 30 days, e-mail outcomes,
// the scheduler's worst lag; the figures' tables agree.
func TestActivityCharts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		loadDemo(t, h.svc)
		now := time.Now()
		seedHistory(t, dbURL, h.svc, now)

		a, err := h.svc.Activity(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Hours) != 24 || len(a.Days) != 30 {
			t.Fatalf("%d hours and %d days, want 24 and 30", len(a.Hours), len(a.Days))
		}
		sum := func(bs []cloche.ActivityBucket, ch cloche.Channel) int {
			n := 0
			for _, b := range bs {
				n += b.Reached[ch]
			}
			return n
		}
		if got := sum(a.Hours, cloche.ChannelMessage); got != 6 {
			t.Errorf("bell notifications in 24 hours = %d, want 6", got)
		}
		twoAgo := now.Add(-2 * time.Hour).Truncate(time.Hour)
		if b := a.Hours[21]; !b.Start.Equal(twoAgo) || b.Reached[cloche.ChannelMessage] != 3 {
			t.Errorf("hour 21 starts %s with %v, want %s with 3 bell notifications", b.Start, b.Reached, twoAgo)
		}
		if got := sum(a.Days, cloche.ChannelMessage); got != 6 {
			t.Errorf("bell notifications in 30 days = %d, want 6", got)
		}
		if got := sum(a.Days, cloche.ChannelEmail); got != 2 {
			t.Errorf("e-mails in 30 days = %d, want 2", got)
		}
		if got := a.Hours[18].MaxLag; got != 90*time.Second {
			t.Errorf("worst lag 5 hours ago = %s, want 1m30s", got)
		}
		// The first call kept the sealed hours; the second reads them back.
		again, err := h.svc.Activity(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, pass := range []*cloche.Activity{a, again} {
			if got := sum(pass.Hours, cloche.ChannelPush); got != 1 {
				t.Errorf("pushes in 24 hours = %d, want 1", got)
			}
			if got := sum(pass.Days, cloche.ChannelMessage); got != 6 {
				t.Errorf("bell notifications in 30 days = %d, want 6 (read back)", got)
			}
		}

		h.mustLogin()
		p := h.get("/console/")
		wantStatus(t, "dashboard", p, http.StatusOK)
		totals := map[string]string{}
		for _, m := range chartTotalRE.FindAllStringSubmatch(p.body, -1) {
			totals[m[1]] = m[2]
		}
		want := map[string]string{"chart-hours": "7", "chart-days": "9", "chart-emails": "2", "chart-lag": "90"}
		for id, n := range want {
			if totals[id] != n {
				t.Errorf("%s: total %q, want %s (all: %v)", id, totals[id], n, totals)
			}
		}
		wantContains(t, "dashboard", p,
			`Bell menu (message): <strong data-series="s-message">6</strong>`,
			`Sent: <strong data-series="s-sent">1</strong>`,
			`Failed: <strong data-series="s-failed">1</strong>`,
			`<strong data-series="s-lag">1m 30s at worst</strong>`,
			`role="img" aria-labelledby="chart-hours-title chart-hours-desc"`,
			"Notifications per hour, last 24 hours: 7 notifications in all.")
		// The bar of two hours ago says what it counts.
		wantContains(t, "dashboard", p, "<title>"+twoAgo.In(h.svc.Location()).Format("15:04")+", Bell menu (message): 3 notifications</title>")
		// The figures' table of the days sums to the chart's total.
		days := p.body[strings.Index(p.body, `id="chart-days"`):]
		days = days[:strings.Index(days, "</figure>")]
		rowTotal := regexp.MustCompile(`<td class="num">(\d+)</td></tr>`)
		n := 0
		for _, m := range rowTotal.FindAllStringSubmatch(days, -1) {
			n += atoi(t, m[1])
		}
		if n != 9 {
			t.Errorf("the days' table sums to %d, want 9", n)
		}
		if strings.Contains(p.body, `http-equiv="refresh"`) {
			t.Errorf("the dashboard reloads itself unasked")
		}

		// The hours that ended are kept: a row slipped into one of them
		// afterwards is not read again, while the current hour is.
		ctx := context.Background()
		sneaked, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Sneaked in"}, managers)
		if err != nil {
			t.Fatal(err)
		}
		testdb.Exec(t, dbURL, `UPDATE events SET published_at = ? WHERE id = ?`, now.Add(-3*time.Hour), sneaked.EventID)
		if _, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "Now"}, managers); err != nil {
			t.Fatal(err)
		}
		a, err = h.svc.Activity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := sum(a.Hours, cloche.ChannelMessage); got != 9 {
			t.Errorf("after one more event now and one slipped into a kept hour: %d bell notifications in 24 hours, want 9", got)
		}
	})
}

// TestDashboardRefresh: the operator turns the reload on with a link and
// off with another; nothing else reloads.
func TestDashboardRefresh(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		h.mustLogin()
		p := h.get("/console/")
		wantContains(t, "off", p, `<a href="/console/?refresh=30" id="refresh-30">`)
		p = h.get("/console/?refresh=30")
		wantStatus(t, "on", p, http.StatusOK)
		wantContains(t, "on", p, `<meta http-equiv="refresh" content="30">`, `<a href="/console/" id="refresh-off">Stop reloading</a>`)
		wantStatus(t, "bad period", h.get("/console/?refresh=1"), http.StatusBadRequest)
		if p := h.get("/console/events?refresh=30"); strings.Contains(p.body, `http-equiv="refresh"`) {
			t.Errorf("the events page reloads")
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestReadRatePerType: the types page gives each type's read rate over 30
// days, from its events' in-app notifications.
func TestReadRatePerType(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		seedHistory(t, dbURL, h.svc, time.Now())
		for _, u := range []string{"1", "2"} {
			page, err := h.svc.Inbox(ctx, cloche.InboxQuery{UserID: u, All: true, Limit: 10})
			if err != nil {
				t.Fatalf("inbox of %s: %v", u, err)
			}
			for _, it := range page.Items {
				if it.Title == "Two hours ago" {
					if err := h.svc.MarkRead(ctx, u, it.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		h.mustLogin()
		if p := h.get("/console/types"); strings.Contains(p.body, "read-message:internal") {
			t.Errorf("the types page reads the read rates unasked")
		}
		p := h.get("/console/types?rates=1")
		wantStatus(t, "types", p, http.StatusOK)
		// 6 bell notifications and a push in 30 days (the 3 of 40 days ago left
		// out), 2 read.
		wantContains(t, "types", p, `<td id="read-message:internal">29 %, 2 of 7</td>`, `<td id="read-task:status:valid">—</td>`)
	})
}

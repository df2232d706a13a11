package cloche_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

func TestStats(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		now := time.Date(2026, 3, 9, 23, 50, 0, 0, paris)
		svc := open(t, testConfig(url), cloche.WithClock(func() time.Time { return now }))
		loadDirectory(t, svc)
		notify := func(key, title string, r cloche.Recipients, due *time.Time) {
			t.Helper()
			if _, err := svc.Notify(ctx, cloche.Notification{Key: key, Title: title, DueAt: due}, r); err != nil {
				t.Fatal(err)
			}
		}
		managers := cloche.Recipients{GroupNames: []string{"manager"}} // alice, bob
		notify("message:internal", "yesterday, in Paris", managers, nil)

		// 00:10 in Paris is still the day before in UTC: it counts as today.
		now = time.Date(2026, 3, 10, 0, 10, 0, 0, paris)
		notify("message:internal", "today", managers, nil)
		notify("task:status:valid", "by e-mail", cloche.Recipients{UserIDs: []string{"1", "2"}}, nil)
		notify("message:system", "alert", cloche.Recipients{UserIDs: []string{"3"}}, nil)
		late := now.Add(10 * time.Minute)
		notify("message:internal", "overdue", managers, &late)
		next := now.Add(2 * time.Hour)
		notify("message:internal", "later", managers, &next)

		now = time.Date(2026, 3, 10, 0, 30, 0, 0, paris)
		st, err := svc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2026, 3, 10, 0, 0, 0, 0, paris); !st.Since.Equal(want) {
			t.Errorf("Since = %v, want %v", st.Since, want)
		}
		if st.PublishedEvents != 3 {
			t.Errorf("PublishedEvents = %d, want 3", st.PublishedEvents)
		}
		wantReached := map[cloche.Channel]int{cloche.ChannelEmail: 2, cloche.ChannelMessage: 2, cloche.ChannelHeaderMessage: 0, cloche.ChannelAlert: 1, cloche.ChannelPush: 0}
		if !reflect.DeepEqual(st.Reached, wantReached) {
			t.Errorf("Reached = %v, want %v", st.Reached, wantReached)
		}
		if st.PendingEvents != 2 || st.OverdueEvents != 1 {
			t.Errorf("PendingEvents, OverdueEvents = %d, %d; want 2, 1", st.PendingEvents, st.OverdueEvents)
		}
		if st.SchedulerLag != 10*time.Minute {
			t.Errorf("SchedulerLag = %v, want 10m", st.SchedulerLag)
		}
		if st.NextDue == nil || !st.NextDue.Equal(next) {
			t.Errorf("NextDue = %v, want %v", st.NextDue, next)
		}
		if st.Deliveries[cloche.DeliveryState("queued")] != 2 || st.Deliveries[cloche.DeliveryState("failed")] != 0 {
			t.Errorf("Deliveries = %v, want 2 queued, 0 failed", st.Deliveries)
		}
	})
}

func TestSearchUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		ids := func(q cloche.UserQuery) []string {
			t.Helper()
			us, err := svc.SearchUsers(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, u := range us {
				out = append(out, u.ID)
			}
			return out
		}
		tests := []struct {
			q    cloche.UserQuery
			want []string
		}{
			{cloche.UserQuery{Text: "ali"}, []string{"1"}},
			{cloche.UserQuery{Text: "EXAMPLE.org", Limit: 3}, []string{"1", "2", "3"}},
			{cloche.UserQuery{Text: "5"}, []string{"5"}},
			{cloche.UserQuery{FollowedBy: "1"}, []string{"2"}},
			{cloche.UserQuery{Limit: 2, Offset: 4}, []string{"5", "6"}},
		}
		for _, tc := range tests {
			if got := ids(tc.q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("SearchUsers(%+v) = %v, want %v", tc.q, got, tc.want)
			}
		}
		if _, err := svc.SearchUsers(ctx, cloche.UserQuery{Offset: -1}); fieldOf(err) != "offset" {
			t.Errorf("SearchUsers with a negative offset: %v, want a field error on offset", err)
		}
	})
}

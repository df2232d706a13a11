package cloche_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cloche/cloche"
)

func TestUsersAndGroups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)

		page, err := svc.Users(ctx, cloche.UserFilter{Limit: 4})
		if err != nil || len(page.Items) != 4 || page.Next != "4" {
			t.Fatalf("first page: %+v %v", page, err)
		}
		page, err = svc.Users(ctx, cloche.UserFilter{After: page.Next, Limit: 4})
		if err != nil || len(page.Items) != 2 || page.Next != "" {
			t.Fatalf("last page: %+v %v", page, err)
		}
		members, err := svc.Users(ctx, cloche.UserFilter{Group: "manager"})
		if err != nil || ids(members.Items) != "1,2" {
			t.Errorf("managers: %v %v", ids(members.Items), err)
		}
		of10, err := svc.Users(ctx, cloche.UserFilter{CompanyID: "10"})
		if err != nil || ids(of10.Items) != "1,2,5" {
			t.Errorf("company 10: %v %v", ids(of10.Items), err)
		}

		if err := svc.SetGroupMembers(ctx, "manager", []string{"3", "6"}); err != nil {
			t.Fatal(err)
		}
		members, _ = svc.Users(ctx, cloche.UserFilter{Group: "manager"})
		if ids(members.Items) != "3,6" {
			t.Errorf("managers after set: %v", ids(members.Items))
		}
		res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "to managers"},
			cloche.Recipients{GroupNames: []string{"manager"}})
		if err != nil || res.Reached[cloche.ChannelMessage] != 2 {
			t.Errorf("notify the new managers: %+v %v", res, err)
		}
		if err := svc.SetGroupMembers(ctx, "manager", []string{"3", "ghost"}); fieldOf(err) != "user_ids" {
			t.Errorf("unknown member: %v", err)
		}
		if err := svc.SetGroupMembers(ctx, " ", nil); fieldOf(err) != "group" {
			t.Errorf("empty group name: %v", err)
		}
		groups, err := svc.Groups(ctx)
		if err != nil || len(groups) != 3 {
			t.Errorf("groups: %+v %v", groups, err)
		}
		n, err := svc.DeleteGroup(ctx, "manager")
		if err != nil || n != 2 {
			t.Errorf("delete group: %d %v", n, err)
		}
		if _, err := svc.DeleteGroup(ctx, "manager"); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("delete an empty group: %v", err)
		}
	})
}

func TestReadyAndStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		if err := svc.Ready(ctx); err != nil {
			t.Errorf("ready: %v", err)
		}
		if _, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "mail"},
			cloche.Recipients{UserIDs: []string{"1", "2"}}); err != nil {
			t.Fatal(err)
		}
		st, err := svc.MonitorStats(ctx)
		if err != nil || st.DeliveriesByState[cloche.DeliveryState("queued")] != 2 || st.OldestOverdue != nil {
			t.Errorf("stats: %+v %v", st, err)
		}
		ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{})
		if err != nil || len(ds) != 2 {
			t.Fatalf("deliveries: %v %v", ds, err)
		}
		if _, err := svc.RetryDelivery(ctx, ds[0].ID); !errors.Is(err, cloche.ErrConflict) {
			t.Errorf("retry a queued delivery: %v", err)
		}
		if _, err := svc.Delivery(ctx, 424242); !errors.Is(err, cloche.ErrNotFound) {
			t.Errorf("unknown delivery: %v", err)
		}
		svc.Close()
		if err := svc.Ready(ctx); !errors.Is(err, cloche.ErrUnavailable) {
			t.Errorf("ready on a closed service: %v", err)
		}
	})
}

func ids(us []cloche.User) string {
	s := ""
	for i, u := range us {
		if i > 0 {
			s += ","
		}
		s += u.ID
	}
	return s
}

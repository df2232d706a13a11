package cloche_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// TestSendReport: a send says who of its recipients got nothing and why,
// as it says which user ids are unknown: unknown group names, inactive
// users and companies, groups and companies without an active member,
// users without an address on e-mail, listed up to 100 and counted past
// that; a scheduled event keeps what its publication found on the event.
func TestSendReport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		ctx := context.Background()
		f := cloche.DirectoryFile{
			Companies: []cloche.CompanyInput{{ID: "40", Name: "Vide"}},
			Users:     []cloche.UserInput{{ID: "7", Name: "Gus", Active: ptr(false), Groups: []string{"retired"}}},
		}
		for i := range 105 {
			f.Users = append(f.Users, cloche.UserInput{ID: cloche.ID(fmt.Sprintf("b%03d", i)), Groups: []string{"bulk"}})
		}
		if _, err := svc.Import(ctx, &f); err != nil {
			t.Fatal(err)
		}
		unreachable := func(kind, id, reason string) cloche.Unreachable {
			return cloche.Unreachable{Kind: kind, ID: id, Reason: reason}
		}
		tests := []struct {
			name    string
			to      cloche.Recipients
			channel cloche.Channel
			want    cloche.SendReport
			reached int
		}{
			{"in-app", cloche.Recipients{GroupNames: []string{"manager", "ghosts", "retired"}, UserIDs: []string{"4", "1", "404"}, CompanyID: "30"},
				cloche.ChannelMessage, cloche.SendReport{
					UnknownUserIDs: []string{"404"}, UnknownGroupNames: []string{"ghosts"},
					Unreachable: []cloche.Unreachable{unreachable("user", "4", "inactive"), unreachable("group", "retired", "no_active_member"),
						unreachable("company", "30", "inactive")},
				}, 2},
			{"e-mail", cloche.Recipients{UserIDs: []string{"5", "1"}, CompanyID: "40"}, cloche.ChannelEmail, cloche.SendReport{
				Unreachable: []cloche.Unreachable{unreachable("company", "40", "no_active_member"), unreachable("user", "5", "no_email")},
			}, 1},
			{"everyone reached", cloche.Recipients{GroupNames: []string{"manager"}}, cloche.ChannelEmail, cloche.SendReport{}, 2},
		}
		for _, tc := range tests {
			res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: tc.name}, tc.to, cloche.ForceChannel(tc.channel))
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			got := cloche.SendReport{UnknownUserIDs: res.UnknownUserIDs, UnknownCompanyID: res.UnknownCompanyID,
				UnknownGroupNames: res.UnknownGroupNames, Unreachable: res.Unreachable, UnreachableMore: res.UnreachableMore}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: report %+v, want %+v", tc.name, got, tc.want)
			}
			if res.Reached[tc.channel] != tc.reached {
				t.Errorf("%s: reached %v, want %d", tc.name, res.Reached, tc.reached)
			}
			ev, err := svc.Event(ctx, res.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if want := &tc.want; want.Empty() && ev.Report != nil || !want.Empty() && !reflect.DeepEqual(ev.Report, want) {
				t.Errorf("%s: event report %+v, want %+v", tc.name, ev.Report, tc.want)
			}
		}

		// 105 users without an address: 100 listed, 5 counted.
		res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "bulk"},
			cloche.Recipients{GroupNames: []string{"bulk"}}, cloche.ForceChannel(cloche.ChannelEmail))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Unreachable) != 100 || res.UnreachableMore != 5 || res.Unreachable[0] != unreachable("user", "b000", "no_email") {
			t.Errorf("bulk: %d unreachable (first %v), %d more; want 100, b000 first, 5 more", len(res.Unreachable), res.Unreachable[0], res.UnreachableMore)
		}

		// A scheduled event reports at once what is unknown, and keeps on
		// the event what its publication found.
		start(t, svc)
		due := svc.Now().Add(2 * time.Second)
		res, err = svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "later", DueAt: &due},
			cloche.Recipients{GroupNames: []string{"ghosts", "retired"}, UserIDs: []string{"4", "404"}})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(res.UnknownGroupNames, []string{"ghosts"}) || !reflect.DeepEqual(res.UnknownUserIDs, []string{"404"}) {
			t.Errorf("scheduled: unknown groups %v, users %v", res.UnknownGroupNames, res.UnknownUserIDs)
		}
		ev := waitStatus(t, svc, res.EventID, 60*time.Second)
		want := &cloche.SendReport{UnknownUserIDs: []string{"404"}, UnknownGroupNames: []string{"ghosts"},
			Unreachable: []cloche.Unreachable{unreachable("user", "4", "inactive"), unreachable("group", "retired", "no_active_member")}}
		if ev.Status != cloche.EventPublished || !reflect.DeepEqual(ev.Report, want) {
			t.Errorf("scheduled event %s, report %+v; want published, %+v", ev.Status, ev.Report, want)
		}
	})
}

package demo

import (
	"context"
	"reflect"
	"testing"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/testdb"
)

func TestLoad(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := cloche.DefaultConfig()
			cfg.DatabaseURL = b.URL(t)
			svc, err := cloche.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()

			first, err := Load(ctx, svc)
			if err != nil {
				t.Fatal(err)
			}
			want := &Summary{Companies: 4, Users: 12, Inactive: 2, Followed: 7,
				Groups: map[string]int{"admin": 2, "manager": 3, "member": 8}}
			if !reflect.DeepEqual(first, want) {
				t.Errorf("Load = %+v, want %+v", first, want)
			}
			if got := first.String(); got != "4 companies, 12 users (2 admin, 3 manager, 8 member; 2 inactive; 7 with a follower)" {
				t.Errorf("String() = %q", got)
			}
			// Someone of the host's own, and a demo person changed meanwhile.
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "99", Name: "Not a demo user"}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UpsertUser(ctx, cloche.UserInput{ID: "10", Name: "Renamed"}); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(ctx, svc); err != nil {
				t.Fatalf("second Load: %v", err)
			}
			all, err := svc.SearchUsers(ctx, cloche.UserQuery{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 13 {
				t.Errorf("%d users after loading twice, want the 12 demo users and the host's own", len(all))
			}
			emma, err := svc.User(ctx, "10")
			if err != nil {
				t.Fatal(err)
			}
			if emma.Name != "Emma Petit" || emma.FollowerID != "2" || !reflect.DeepEqual(emma.Companies, []string{"10"}) {
				t.Errorf("user 10 after reloading = %+v, want the demo's Emma Petit", emma)
			}
			// The routes the demo is there to show.
			res, err := svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "hello"},
				cloche.Recipients{FollowerUserID: "16"})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Reached[cloche.ChannelMessage]; got != 3 {
				t.Errorf("follower of Karima (inactive follower) reached %d, want the 3 active managers and admins", got)
			}
			res, err = svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "hello"},
				cloche.Recipients{CompanyID: "10"})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Reached[cloche.ChannelMessage]; got != 3 {
				t.Errorf("Atelier Nord reached %d, want its 3 members", got)
			}
		})
	}
}

package cloche_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

// syncPeople is a directory of n people in 100 companies and 50 groups,
// with followers and account types.
func syncPeople(n int) (companies []cloche.CompanyInput, users []cloche.UserInput) {
	for c := range 100 {
		companies = append(companies, cloche.CompanyInput{ID: cloche.ID(fmt.Sprintf("c%03d", c)), Name: fmt.Sprintf("Company %d", c),
			Email: fmt.Sprintf("c%d@example.org", c)})
	}
	types := []string{"entrepreneur", "equipe_appui", "hybride", ""}
	for i := range n {
		u := cloche.UserInput{ID: cloche.ID(fmt.Sprintf("u%05d", i)), Email: fmt.Sprintf("u%d@example.org", i),
			Name: fmt.Sprintf("Person %d", i), Locale: []string{"fr", "en"}[i%2], AccountType: types[i%4],
			Groups: []string{fmt.Sprintf("g%02d", i%50)}, Companies: []cloche.ID{cloche.ID(fmt.Sprintf("c%03d", i%100))}}
		if i%7 == 0 {
			u.Groups = append(u.Groups, "manager")
		}
		if i%10 == 1 {
			u.FollowerID = cloche.ID(fmt.Sprintf("u%05d", i-1))
		}
		users = append(users, u)
	}
	return companies, users
}

// wantUser is what the directory should hold for in.
func wantUser(in cloche.UserInput, active bool) cloche.User {
	u := cloche.User{ID: string(in.ID), Email: in.Email, Name: in.Name, Locale: in.Locale, Active: active,
		Groups: slices.Sorted(slices.Values(in.Groups)), FollowerID: string(in.FollowerID), AccountType: in.AccountType}
	for _, c := range in.Companies {
		u.Companies = append(u.Companies, string(c))
	}
	slices.Sort(u.Companies)
	if u.Locale == "" {
		u.Locale = "fr"
	}
	return u
}

// allUsers reads the whole directory, by id.
func allUsers(t *testing.T, svc *cloche.Service) map[string]cloche.User {
	t.Helper()
	out := map[string]cloche.User{}
	f := cloche.UserFilter{Limit: 1000}
	for {
		page, err := svc.Users(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Items {
			out[u.ID] = u
		}
		if page.Next == "" {
			return out
		}
		f.After = page.Next
	}
}

// A sync of 10,000 people, then of the same with 1 % changed: the counts
// say exactly what changed, the directory holds exactly the snapshot (the
// missing deactivated, not deleted), and only the changed rows were
// written (the others keep their updated_at).
func TestSyncDirectory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		companies, users := syncPeople(10000)
		st, err := svc.SyncDirectory(ctx, &cloche.DirectorySnapshot{Companies: &companies, Users: &users})
		if err != nil {
			t.Fatal(err)
		}
		if want := (cloche.SyncStats{SyncCounts: cloche.SyncCounts{Created: 10000}, Companies: cloche.SyncCounts{Created: 100}}); *st != want {
			t.Fatalf("first sync %+v, want %+v", *st, want)
		}
		first := allUsers(t, svc)
		st, err = svc.SyncDirectory(ctx, &cloche.DirectorySnapshot{Companies: &companies, Users: &users})
		if err != nil {
			t.Fatal(err)
		}
		if want := (cloche.SyncStats{SyncCounts: cloche.SyncCounts{Unchanged: 10000}, Companies: cloche.SyncCounts{Unchanged: 100}}); *st != want {
			t.Fatalf("same sync again %+v, want %+v", *st, want)
		}

		// 1 %: 20 renamed, 20 moved to another group, 20 to another
		// company, 20 with another follower or account type, 20 gone, 20
		// new; one company renamed, one gone.
		time.Sleep(2 * time.Millisecond) // a later updated_at for what changes
		changed := map[string]bool{}
		next := slices.Clone(users)
		for k := range 20 {
			next[100+k].Name += " (renamed)"
			next[200+k].Groups = []string{"g99"}
			next[300+k].Companies = []cloche.ID{"c000", "c001"}
			if k%2 == 0 {
				next[400+k].AccountType = "stagiaire"
			} else {
				next[400+k].FollowerID = "u09999"
			}
			for _, i := range []int{100 + k, 200 + k, 300 + k, 400 + k} {
				changed[string(next[i].ID)] = true
			}
		}
		gone := map[string]bool{}
		for _, u := range next[9980:] {
			gone[string(u.ID)] = true
		}
		next = next[:9980]
		for k := range 20 {
			next = append(next, cloche.UserInput{ID: cloche.ID(fmt.Sprintf("n%02d", k)), Name: "New", Groups: []string{"g00"},
				Companies: []cloche.ID{"c005"}, FollowerID: "u00000"})
		}
		// u09999 follows nobody and is gone: following it stays possible.
		nextCompanies := slices.Clone(companies[:99])
		nextCompanies[5].Name = "Company five"
		st, err = svc.SyncDirectory(ctx, &cloche.DirectorySnapshot{Companies: &nextCompanies, Users: &next})
		if err != nil {
			t.Fatal(err)
		}
		want := cloche.SyncStats{SyncCounts: cloche.SyncCounts{Created: 20, Updated: 80, Deactivated: 20, Unchanged: 9900},
			Companies: cloche.SyncCounts{Updated: 1, Deactivated: 1, Unchanged: 98}}
		if *st != want {
			t.Errorf("1 %% sync %+v, want %+v", *st, want)
		}

		expect := map[string]cloche.User{}
		for _, in := range next {
			expect[string(in.ID)] = wantUser(in, true)
		}
		for _, in := range users[9980:] {
			expect[string(in.ID)] = wantUser(in, false)
		}
		got := allUsers(t, svc)
		if len(got) != len(expect) {
			t.Fatalf("directory holds %d people, want %d", len(got), len(expect))
		}
		bad := 0
		for id, w := range expect {
			g := got[id]
			when := g.UpdatedAt
			g.UpdatedAt = time.Time{}
			if !sameUser(g, w) {
				if bad++; bad <= 5 {
					t.Errorf("user %s: %+v, want %+v", id, g, w)
				}
			}
			if old, ok := first[id]; ok && !changed[id] && !gone[id] && !when.Equal(old.UpdatedAt) {
				if bad++; bad <= 5 {
					t.Errorf("user %s did not change but was written (updated_at %v, was %v)", id, when, old.UpdatedAt)
				}
			}
			if (changed[id] || gone[id]) && when.Equal(first[id].UpdatedAt) {
				t.Errorf("user %s changed but keeps its updated_at", id)
			}
		}
		c, err := svc.Company(ctx, "c099")
		if err != nil || c.Active {
			t.Errorf("company missing from the snapshot: %+v, %v (want it kept, inactive)", c, err)
		}
		if c, _ := svc.Company(ctx, "c005"); c.Name != "Company five" {
			t.Errorf("renamed company: %+v", c)
		}
	})
}

func sameUser(a, b cloche.User) bool {
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	return a.ID == b.ID && a.Email == b.Email && a.Name == b.Name && a.Locale == b.Locale && a.Active == b.Active &&
		a.FollowerID == b.FollowerID && a.AccountType == b.AccountType &&
		slices.Equal(norm(a.Groups), norm(b.Groups)) && slices.Equal(norm(a.Companies), norm(b.Companies))
}

// Bad snapshots are refused whole, naming row and field; sections left
// out are left alone; the groups section adds members.
func TestSyncDirectoryInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		before := allUsers(t, svc)
		cases := []struct {
			name, snap, field string
		}{
			{"unknown follower", `{"users": [{"id": "a"}, {"id": "b", "follower_id": "zz"}]}`, "users[1].follower_id"},
			{"unknown company", `{"users": [{"id": "a", "companies": ["nope"]}]}`, "users[0].companies"},
			{"bad e-mail", `{"users": [{"id": "a", "email": "x"}]}`, "users[0].email"},
			{"twice", `{"users": [{"id": "a"}, {"id": "a"}]}`, "users[1].id"},
			{"group member not in the snapshot", `{"users": [{"id": "a"}], "groups": [{"name": "g", "members": ["b"]}]}`, "groups[0].members[0]"},
			{"groups without users", `{"groups": [{"name": "g", "members": ["b"]}]}`, "groups"},
			{"unknown field", `{"people": []}`, "file"},
		}
		for _, tc := range cases {
			_, err := svc.SyncDirectoryFrom(ctx, stringsReader(tc.snap))
			if fieldOf(err) != tc.field {
				t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
			}
		}
		if after := allUsers(t, svc); !maps.EqualFunc(before, after, func(a, b cloche.User) bool { return sameUser(a, b) }) {
			t.Error("a refused sync changed the directory")
		}
		// Companies only: people are left alone, companies missing deactivated.
		st, err := svc.SyncDirectoryFrom(ctx, stringsReader(`{"companies": [{"id": "10", "name": "Atelier Nord", "email": "nord@example.org"}]}`))
		if err != nil || st.Companies != (cloche.SyncCounts{Deactivated: 1, Unchanged: 1}) || st.SyncCounts != (cloche.SyncCounts{}) {
			t.Errorf("companies only: %+v, %v", st, err)
		}
		// A follower and a company Cloche holds, though not in the
		// snapshot; the groups section adds to the users' own groups.
		st, err = svc.SyncDirectoryFrom(ctx, stringsReader(`{"users": [
			{"id": "1", "email": "alice@example.org", "name": "Alice", "groups": ["manager"], "companies": ["20"]},
			{"id": "9", "name": "Ivy", "follower_id": "1"}],
			"groups": [{"name": "admin", "members": ["1", "9"]}]}`))
		if err != nil || st.SyncCounts != (cloche.SyncCounts{Created: 1, Updated: 1, Deactivated: 4}) {
			t.Fatalf("users with groups: %+v, %v", st, err)
		}
		u, _ := svc.User(ctx, "1")
		if !slices.Equal(u.Groups, []string{"admin", "manager"}) || !slices.Equal(u.Companies, []string{"20"}) || !u.Active {
			t.Errorf("user 1 after sync: %+v", u)
		}
		if u, _ := svc.User(ctx, "2"); u == nil || u.Active {
			t.Errorf("user 2, missing from the snapshot: %+v (want kept, inactive)", u)
		}
	})
}

package storetest

import (
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"c1", "c2"} {
		must(t, s.CompanyUpsert(ctx, &store.Company{ID: id, Name: "Company " + id, Active: true}))
	}

	t.Run("round trip", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{
			ID: "u1", Email: "ann@example.org", Name: "Ann", Locale: "fr", Active: true,
			Groups:    []string{"manager", "admin", "manager"},
			Companies: []string{"c2", "c1"},
			UpdatedAt: t0,
		}))
		got, err := s.UserGet(ctx, "u1")
		must(t, err)
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(t0))
		got.UpdatedAt = t0
		equal(t, "UserGet", *got, store.User{
			ID: "u1", Email: "ann@example.org", Name: "Ann", Locale: "fr", Active: true,
			Groups: []string{"admin", "manager"}, Companies: []string{"c1", "c2"}, UpdatedAt: t0,
		})
	})

	t.Run("empty sets are empty slices", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{ID: "u2", Active: false}))
		got, err := s.UserGet(ctx, "u2")
		must(t, err)
		if got.Groups == nil || len(got.Groups) != 0 || got.Companies == nil || len(got.Companies) != 0 {
			t.Errorf("UserGet: Groups = %#v, Companies = %#v, want empty non-nil slices", got.Groups, got.Companies)
		}
		if got.Active || got.FollowerID != "" {
			t.Errorf("UserGet = %+v, want inactive without follower", got)
		}
		checkRecent(t, "UpdatedAt (zero given)", got.UpdatedAt)
	})

	t.Run("upsert replaces sets", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{
			ID: "u1", Email: "ann@example.com", Name: "Ann B.", Active: true,
			Groups: []string{"contractor"}, Companies: []string{"c2"},
		}))
		got, err := s.UserGet(ctx, "u1")
		must(t, err)
		equal(t, "Groups", got.Groups, []string{"contractor"})
		equal(t, "Companies", got.Companies, []string{"c2"})
		if got.Email != "ann@example.com" || got.Name != "Ann B." || got.Locale != "" {
			t.Errorf("UserGet = %+v, want the new fields", got)
		}
		must(t, s.UserUpsert(ctx, &store.User{ID: "u1", Email: "ann@example.com", Active: true}))
		got, err = s.UserGet(ctx, "u1")
		must(t, err)
		if len(got.Groups) != 0 || len(got.Companies) != 0 {
			t.Errorf("UserGet after upsert with no sets: Groups %v, Companies %v, want none", got.Groups, got.Companies)
		}
	})

	t.Run("follower", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{ID: "u3", Active: true, FollowerID: "u1"}))
		got, err := s.UserGet(ctx, "u3")
		must(t, err)
		if got.FollowerID != "u1" {
			t.Errorf("FollowerID = %q, want u1", got.FollowerID)
		}
		must(t, s.UserUpsert(ctx, &store.User{ID: "u3", Active: true}))
		got, err = s.UserGet(ctx, "u3")
		must(t, err)
		if got.FollowerID != "" {
			t.Errorf("FollowerID = %q after upsert without one, want none", got.FollowerID)
		}
	})

	t.Run("invalid references write nothing", func(t *testing.T) {
		tests := []struct {
			name  string
			user  store.User
			field string
		}{
			{"unknown follower", store.User{ID: "u4", Active: true, FollowerID: "ghost"}, "follower_id"},
			{"unknown company", store.User{ID: "u4", Active: true, Companies: []string{"c1", "ghost"}}, "companies"},
			{"existing user, unknown company", store.User{ID: "u1", Name: "Changed", Groups: []string{"x"}, Companies: []string{"ghost"}}, "companies"},
			{"existing user, unknown follower", store.User{ID: "u1", Name: "Changed", FollowerID: "ghost"}, "follower_id"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before, _ := s.UserGet(ctx, tc.user.ID)
				u := tc.user
				wantFieldError(t, s.UserUpsert(ctx, &u), tc.field)
				after, err := s.UserGet(ctx, tc.user.ID)
				if before == nil {
					wantErr(t, err, store.ErrNotFound)
					return
				}
				must(t, err)
				equal(t, "UserGet after failed upsert", *after, *before)
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		_, err := s.UserGet(ctx, "nobody")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.UserDelete(ctx, "nobody"), store.ErrNotFound)
	})

	t.Run("delete unsets follower", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{ID: "boss", Active: true, Groups: []string{"manager"}, Companies: []string{"c1"}}))
		for _, id := range []string{"f1", "f2"} {
			must(t, s.UserUpsert(ctx, &store.User{ID: id, Active: true, FollowerID: "boss"}))
		}
		must(t, s.UserDelete(ctx, "boss"))
		_, err := s.UserGet(ctx, "boss")
		wantErr(t, err, store.ErrNotFound)
		for _, id := range []string{"f1", "f2"} {
			got, err := s.UserGet(ctx, id)
			must(t, err)
			if got.FollowerID != "" {
				t.Errorf("%s.FollowerID = %q after its follower was deleted, want none", id, got.FollowerID)
			}
		}
		cs, err := s.GroupContacts(ctx, []string{"manager"})
		must(t, err)
		sameContacts(t, "GroupContacts after delete", cs, nil)
		cs, err = s.CompanyContacts(ctx, "c1")
		must(t, err)
		for _, c := range cs {
			if c.UserID == "boss" {
				t.Errorf("CompanyContacts still lists a deleted user")
			}
		}
		wantErr(t, s.UserDelete(ctx, "boss"), store.ErrNotFound)
	})
}

func testCompanies(t *testing.T, s store.Store) {
	ctx := t.Context()

	t.Run("round trip", func(t *testing.T) {
		must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Email: "hello@acme.test", Active: true, UpdatedAt: t0}))
		got, err := s.CompanyGet(ctx, "acme")
		must(t, err)
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(t0))
		got.UpdatedAt = t0
		equal(t, "CompanyGet", *got, store.Company{ID: "acme", Name: "ACME", Email: "hello@acme.test", Active: true, UpdatedAt: t0})
	})

	t.Run("upsert replaces", func(t *testing.T) {
		must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME Ltd", Active: false}))
		got, err := s.CompanyGet(ctx, "acme")
		must(t, err)
		if got.Name != "ACME Ltd" || got.Email != "" || got.Active {
			t.Errorf("CompanyGet = %+v, want the new fields", got)
		}
		checkRecent(t, "UpdatedAt (zero given)", got.UpdatedAt)
	})

	t.Run("delete removes memberships", func(t *testing.T) {
		must(t, s.CompanyUpsert(ctx, &store.Company{ID: "globex", Name: "Globex", Active: true}))
		must(t, s.UserUpsert(ctx, &store.User{ID: "u1", Active: true, Companies: []string{"acme", "globex"}}))
		must(t, s.CompanyDelete(ctx, "acme"))
		_, err := s.CompanyGet(ctx, "acme")
		wantErr(t, err, store.ErrNotFound)
		u, err := s.UserGet(ctx, "u1")
		must(t, err)
		equal(t, "Companies", u.Companies, []string{"globex"})
	})

	t.Run("not found", func(t *testing.T) {
		_, err := s.CompanyGet(ctx, "ghost")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.CompanyDelete(ctx, "ghost"), store.ErrNotFound)
	})
}

func testContacts(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "globex", Name: "Globex", Active: false}))
	// Ids chosen so that byte order ("Zoe" < "alice" < "bob") differs from
	// a case-insensitive collation.
	users := []store.User{
		{ID: "alice", Email: "alice@x.test", Active: true, Groups: []string{"manager", "admin"}, Companies: []string{"acme"}},
		{ID: "bob", Email: "bob@x.test", Active: false, Groups: []string{"manager"}, Companies: []string{"acme"}},
		{ID: "Zoe", Email: "zoe@x.test", Active: true, Groups: []string{"admin"}, Companies: []string{"acme", "globex"}},
		{ID: "dan", Email: "", Active: true, Companies: []string{"globex"}},
	}
	for i := range users {
		must(t, s.UserUpsert(ctx, &users[i]))
	}
	zoe := store.Contact{UserID: "Zoe", Email: "zoe@x.test", Active: true}
	alice := store.Contact{UserID: "alice", Email: "alice@x.test", Active: true}
	bob := store.Contact{UserID: "bob", Email: "bob@x.test", Active: false}
	dan := store.Contact{UserID: "dan", Active: true}

	tests := []struct {
		name string
		get  func() ([]store.Contact, error)
		want []store.Contact
	}{
		{"group members once, active only", func() ([]store.Contact, error) {
			return s.GroupContacts(ctx, []string{"manager", "admin"})
		}, []store.Contact{zoe, alice}},
		{"one group", func() ([]store.Contact, error) { return s.GroupContacts(ctx, []string{"manager"}) }, []store.Contact{alice}},
		{"unknown group", func() ([]store.Contact, error) { return s.GroupContacts(ctx, []string{"nobody"}) }, nil},
		{"no groups", func() ([]store.Contact, error) { return s.GroupContacts(ctx, nil) }, nil},
		{"active company", func() ([]store.Contact, error) { return s.CompanyContacts(ctx, "acme") }, []store.Contact{zoe, alice}},
		{"inactive company", func() ([]store.Contact, error) { return s.CompanyContacts(ctx, "globex") }, nil},
		{"unknown company", func() ([]store.Contact, error) { return s.CompanyContacts(ctx, "ghost") }, nil},
		{"users, inactive included, unknown skipped", func() ([]store.Contact, error) {
			return s.UserContacts(ctx, []string{"dan", "bob", "ghost", "alice", "Zoe"})
		}, []store.Contact{zoe, alice, bob, dan}},
		{"no users", func() ([]store.Contact, error) { return s.UserContacts(ctx, nil) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			must(t, err)
			sameContacts(t, "contacts", got, tc.want)
		})
	}
	t.Run("groups active", func(t *testing.T) {
		must(t, s.UserUpsert(ctx, &store.User{ID: "eve", Active: false, Groups: []string{"retired"}}))
		got, err := s.GroupsActive(ctx, []string{"manager", "admin", "retired", "nobody", "manager"})
		must(t, err)
		equal(t, "GroupsActive", got, map[string]bool{"manager": true, "admin": true, "retired": false})
		none, err := s.GroupsActive(ctx, nil)
		must(t, err)
		equal(t, "GroupsActive(nil)", none, map[string]bool{})
	})
}

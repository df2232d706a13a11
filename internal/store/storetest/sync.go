package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// testDirectorySync: a snapshot is compared in bulk; only what differs is
// written, the missing are deactivated, references are checked.
func testDirectorySync(t *testing.T, s store.Store) {
	ctx := t.Context()
	sync := func(p *store.DirectorySyncParams) (*store.DirectorySyncResult, error) {
		var res *store.DirectorySyncResult
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			res, err = tx.DirectorySync(ctx, p)
			return err
		})
		return res, err
	}
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "old", Name: "Old", Active: true}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "gone", Active: true, Groups: []string{"g"}, Companies: []string{"old"}, UpdatedAt: at(0)}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "same", Name: "Same", Locale: "fr", Active: true, Groups: []string{"g"}, TimeZone: "Europe/Paris", UpdatedAt: at(0)}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "moved", Locale: "fr", Active: true, Groups: []string{"g"}, UpdatedAt: at(0)}))
	p := &store.DirectorySyncParams{At: at(1), SyncCompanies: true, SyncUsers: true,
		Companies: []*store.Company{{ID: "new", Name: "New", Active: true}},
		Users: []*store.User{
			{ID: "same", Name: "Same", Locale: "fr", Active: true, Groups: []string{"g"}},
			{ID: "moved", Locale: "fr", Active: true, Groups: []string{"h"}, Companies: []string{"new"}},
			{ID: "born", Locale: "en", Active: true, FollowerID: "same", AccountType: "hybride", Groups: []string{"g", "h"}, TimeZone: "America/New_York"},
		}}
	res, err := sync(p)
	must(t, err)
	if want := (store.DirectorySyncResult{Users: store.DirectorySyncCounts{Created: 1, Updated: 1, Deactivated: 1, Unchanged: 1},
		Companies: store.DirectorySyncCounts{Created: 1, Deactivated: 1}}); *res != want {
		t.Errorf("sync %+v, want %+v", *res, want)
	}
	for id, want := range map[string]store.User{
		"same":  {ID: "same", Name: "Same", Locale: "fr", Active: true, Groups: []string{"g"}, Companies: []string{}, UpdatedAt: norm(at(0))},
		"moved": {ID: "moved", Locale: "fr", Active: true, Groups: []string{"h"}, Companies: []string{"new"}, UpdatedAt: norm(at(1))},
		"born": {ID: "born", Locale: "en", Active: true, FollowerID: "same", AccountType: "hybride", Groups: []string{"g", "h"},
			Companies: []string{}, UpdatedAt: norm(at(1))},
		"gone": {ID: "gone", Active: false, Groups: []string{"g"}, Companies: []string{"old"}, UpdatedAt: norm(at(1))},
	} {
		u, err := s.UserGet(ctx, id)
		must(t, err)
		if u.Name != want.Name || u.Locale != want.Locale || u.Active != want.Active || u.FollowerID != want.FollowerID ||
			u.AccountType != want.AccountType || !slices.Equal(u.Groups, want.Groups) || !slices.Equal(u.Companies, want.Companies) ||
			!u.UpdatedAt.Equal(want.UpdatedAt) {
			t.Errorf("%s: %+v, want %+v", id, *u, want)
		}
	}
	// An empty time zone keeps the stored one, as an upsert does.
	for id, zone := range map[string]string{"same": "Europe/Paris", "born": "America/New_York"} {
		if u, _ := s.UserGet(ctx, id); u.TimeZone != zone {
			t.Errorf("%s: time zone %q, want %q", id, u.TimeZone, zone)
		}
	}
	if c, err := s.CompanyGet(ctx, "old"); err != nil || c.Active {
		t.Errorf("company missing from the snapshot: %+v, %v", c, err)
	}
	// The same again changes nothing.
	res, err = sync(p)
	must(t, err)
	if want := (store.DirectorySyncResult{Users: store.DirectorySyncCounts{Unchanged: 3},
		Companies: store.DirectorySyncCounts{Unchanged: 1}}); *res != want {
		t.Errorf("same sync again %+v, want %+v", *res, want)
	}
	// References out of the snapshot and the store are refused, naming
	// the row; nothing is written.
	for _, tc := range []struct {
		u     *store.User
		field string
	}{
		{&store.User{ID: "x", Active: true, FollowerID: "nobody"}, "users[1].follower_id"},
		{&store.User{ID: "x", Active: true, Companies: []string{"nowhere"}}, "users[1].companies"},
	} {
		_, err := sync(&store.DirectorySyncParams{At: at(2), SyncUsers: true, Users: []*store.User{p.Users[0], tc.u}})
		var fe *store.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("sync with %+v: %v, want an error on %s", tc.u, err, tc.field)
		}
	}
	if u, _ := s.UserGet(ctx, "born"); !u.Active {
		t.Error("a refused sync deactivated people")
	}
	// A follower or company the store holds, though not in the snapshot.
	res, err = sync(&store.DirectorySyncParams{At: at(3), SyncUsers: true,
		Users: []*store.User{{ID: "x", Active: true, FollowerID: "gone", Companies: []string{"old"}}}})
	must(t, err)
	if res.Users != (store.DirectorySyncCounts{Created: 1, Deactivated: 3}) {
		t.Errorf("sync of one %+v", res.Users)
	}
}

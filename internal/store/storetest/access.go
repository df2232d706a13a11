package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func testAPIKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	k1 := &store.APIKey{Name: "endi", Prefix: "ck_aaaa", Hash: "h1", CreatedAt: t0}
	must(t, s.APIKeyInsert(ctx, k1))
	if k1.ID == 0 {
		t.Fatal("APIKeyInsert did not set ID")
	}
	checkTime(t, "CreatedAt", k1.CreatedAt, norm(t0))

	t.Run("active name is unique", func(t *testing.T) {
		wantErr(t, s.APIKeyInsert(ctx, &store.APIKey{Name: "endi", Prefix: "ck_bbbb", Hash: "h2", CreatedAt: t0}), store.ErrConflict)
	})
	t.Run("hash is unique", func(t *testing.T) {
		wantErr(t, s.APIKeyInsert(ctx, &store.APIKey{Name: "other", Prefix: "ck_aaaa", Hash: "h1", CreatedAt: t0}), store.ErrConflict)
	})
	t.Run("get by hash", func(t *testing.T) {
		got, err := s.APIKeyGetByHash(ctx, "h1")
		must(t, err)
		equal(t, "APIKeyGetByHash", *got, store.APIKey{ID: k1.ID, Name: "endi", Prefix: "ck_aaaa", Hash: "h1", CreatedAt: norm(t0)})
		_, err = s.APIKeyGetByHash(ctx, "nope")
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("get by id", func(t *testing.T) {
		got, err := s.APIKeyGet(ctx, k1.ID)
		must(t, err)
		equal(t, "APIKeyGet", *got, store.APIKey{ID: k1.ID, Name: "endi", Prefix: "ck_aaaa", Hash: "h1", CreatedAt: norm(t0)})
		_, err = s.APIKeyGet(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("touch", func(t *testing.T) {
		must(t, s.APIKeyTouch(ctx, k1.ID, at(time.Hour)))
		got, err := s.APIKeyGetByHash(ctx, "h1")
		must(t, err)
		checkTimePtr(t, "LastUsedAt", got.LastUsedAt, ptr(norm(at(time.Hour))))
		wantErr(t, s.APIKeyTouch(ctx, 999999, t0), store.ErrNotFound)
	})
	t.Run("revoke", func(t *testing.T) {
		must(t, s.APIKeyRevoke(ctx, k1.ID, at(2*time.Hour)))
		got, err := s.APIKeyGetByHash(ctx, "h1")
		must(t, err)
		checkTimePtr(t, "RevokedAt", got.RevokedAt, ptr(norm(at(2*time.Hour))))
		byID, err := s.APIKeyGet(ctx, k1.ID)
		must(t, err)
		checkTimePtr(t, "RevokedAt by id", byID.RevokedAt, ptr(norm(at(2*time.Hour))))
		wantErr(t, s.APIKeyRevoke(ctx, k1.ID, at(3*time.Hour)), store.ErrConflict)
		wantErr(t, s.APIKeyRevoke(ctx, 999999, t0), store.ErrNotFound)
		// The name is free again once its key is revoked.
		must(t, s.APIKeyInsert(ctx, &store.APIKey{Name: "endi", Prefix: "ck_cccc", Hash: "h3", CreatedAt: at(time.Minute)}))
	})
	t.Run("list", func(t *testing.T) {
		keys, err := s.APIKeyList(ctx)
		must(t, err)
		if len(keys) != 2 || keys[0].ID != k1.ID || keys[1].Hash != "h3" || keys[0].RevokedAt == nil || keys[1].RevokedAt != nil {
			t.Errorf("APIKeyList = %+v, want the revoked key, then the new one", keys)
		}
	})
}

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	v, err := s.SettingInit(ctx, "auth.token_secret", "first")
	must(t, err)
	if v != "first" {
		t.Errorf("SettingInit on an empty table = %q, want first", v)
	}
	v, err = s.SettingInit(ctx, "auth.token_secret", "second")
	must(t, err)
	if v != "first" {
		t.Errorf("SettingInit again = %q, want the first value kept", v)
	}
	v, err = s.SettingInit(ctx, "other", "x")
	must(t, err)
	if v != "x" {
		t.Errorf("SettingInit of another name = %q, want x", v)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := t.Context()
	claim := func(scope, key, fp string, created time.Time) (*store.IdempotencyRecord, error) {
		return s.IdempotencyClaim(ctx, &store.IdempotencyClaimParams{
			Record:        store.IdempotencyRecord{Scope: scope, Key: key, Fingerprint: fp, CreatedAt: created},
			ExpiredBefore: created.Add(-24 * time.Hour),
		})
	}
	prev, err := claim("k1", "abc", "fp1", t0)
	must(t, err)
	if prev != nil {
		t.Fatalf("first claim = %+v, want nil (claimed)", prev)
	}
	must(t, s.IdempotencyComplete(ctx, &store.IdempotencyRecord{Scope: "k1", Key: "abc", Result: `{"event_id":1}`}))

	t.Run("second claim returns the record", func(t *testing.T) {
		prev, err := claim("k1", "abc", "fp2", at(time.Hour))
		must(t, err)
		if prev == nil {
			t.Fatal("second claim = nil, want the first record")
		}
		checkTime(t, "CreatedAt", prev.CreatedAt, norm(t0))
		prev.CreatedAt = time.Time{}
		equal(t, "record", *prev, store.IdempotencyRecord{Scope: "k1", Key: "abc", Fingerprint: "fp1", Result: `{"event_id":1}`})
	})
	t.Run("scopes are apart", func(t *testing.T) {
		prev, err := claim("k2", "abc", "fp1", at(time.Hour))
		must(t, err)
		if prev != nil {
			t.Errorf("claim in another scope = %+v, want nil", prev)
		}
	})
	t.Run("expired record is replaced", func(t *testing.T) {
		prev, err := claim("k1", "abc", "fp3", at(25*time.Hour))
		must(t, err)
		if prev != nil {
			t.Fatalf("claim after expiry = %+v, want nil", prev)
		}
		prev, err = claim("k1", "abc", "fp4", at(26*time.Hour))
		must(t, err)
		if prev == nil || prev.Fingerprint != "fp3" || prev.Result != "" {
			t.Errorf("claim = %+v, want the replacing record, not completed", prev)
		}
	})
	t.Run("complete unknown", func(t *testing.T) {
		wantErr(t, s.IdempotencyComplete(ctx, &store.IdempotencyRecord{Scope: "k9", Key: "x", Result: "{}"}), store.ErrNotFound)
	})
	t.Run("claim in a rolled back transaction", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			prev, err := tx.IdempotencyClaim(ctx, &store.IdempotencyClaimParams{
				Record: store.IdempotencyRecord{Scope: "k3", Key: "r", Fingerprint: "fp", CreatedAt: t0}, ExpiredBefore: at(-time.Hour)})
			if err != nil || prev != nil {
				t.Errorf("claim in tx = %+v, %v", prev, err)
			}
			return errRollback
		})
		wantErr(t, err, errRollback)
		prev, err := claim("k3", "r", "other", t0)
		must(t, err)
		if prev != nil {
			t.Errorf("claim after rollback = %+v, want nil", prev)
		}
	})
	t.Run("purge", func(t *testing.T) {
		n, err := s.IdempotencyPurge(ctx, at(time.Minute))
		must(t, err)
		if n != 1 { // k3/r, created at t0; k2/abc (t0+1h) and k1/abc (t0+25h) stay
			t.Errorf("IdempotencyPurge = %d, want 1", n)
		}
		for _, c := range []struct {
			scope, key string
			kept       bool
		}{{"k1", "abc", true}, {"k2", "abc", true}, {"k3", "r", false}} {
			prev, err := claim(c.scope, c.key, "probe", at(2*time.Hour))
			must(t, err)
			if (prev != nil) != c.kept {
				t.Errorf("%s/%s after purge: record %+v, want kept=%v", c.scope, c.key, prev, c.kept)
			}
		}
	})
}

func testUserList(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "c1", Name: "C1", Active: true}))
	for _, u := range []store.User{
		{ID: "u1", Active: true, Groups: []string{"manager", "admin"}, Companies: []string{"c1"}},
		{ID: "u2", Active: false, Groups: []string{"manager"}},
		{ID: "u3", Active: true, Groups: []string{"member"}, Companies: []string{"c1"}, FollowerID: "u1"},
		{ID: "u4", Active: true},
	} {
		must(t, s.UserUpsert(ctx, &u))
	}
	tests := []struct {
		name string
		p    store.UserListParams
		want []string
	}{
		{"all", store.UserListParams{}, []string{"u1", "u2", "u3", "u4"}},
		{"group", store.UserListParams{Group: "manager"}, []string{"u1", "u2"}},
		{"company", store.UserListParams{CompanyID: "c1"}, []string{"u1", "u3"}},
		{"group and company", store.UserListParams{Group: "member", CompanyID: "c1"}, []string{"u3"}},
		{"page", store.UserListParams{AfterID: "u1", Limit: 2}, []string{"u2", "u3"}},
		{"unknown group", store.UserListParams{Group: "nobody"}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UserList(ctx, &tc.p)
			must(t, err)
			equal(t, "ids", userIDs(got), tc.want)
		})
	}
	t.Run("fields", func(t *testing.T) {
		got, err := s.UserList(ctx, &store.UserListParams{Limit: 4})
		must(t, err)
		equal(t, "u1 groups", got[0].Groups, []string{"admin", "manager"})
		equal(t, "u1 companies", got[0].Companies, []string{"c1"})
		equal(t, "u4 groups", got[3].Groups, []string{})
		if got[2].FollowerID != "u1" || got[1].Active {
			t.Errorf("UserList = %+v", got)
		}
		checkRecent(t, "UpdatedAt", got[0].UpdatedAt)
	})
}

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, u := range []store.User{
		{ID: "u1", Active: true, Groups: []string{"manager", "admin"}},
		{ID: "u2", Active: true, Groups: []string{"manager"}},
		{ID: "u3", Active: true},
	} {
		must(t, s.UserUpsert(ctx, &u))
	}
	groups, err := s.GroupList(ctx)
	must(t, err)
	equal(t, "GroupList", groups, []store.Group{{Name: "admin", Members: 1}, {Name: "manager", Members: 2}})

	members := func(g string) []string {
		us, err := s.UserList(ctx, &store.UserListParams{Group: g})
		must(t, err)
		out := []string{}
		for _, u := range us {
			out = append(out, u.ID)
		}
		return out
	}
	t.Run("set members", func(t *testing.T) {
		must(t, s.GroupSetMembers(ctx, &store.GroupSetMembersParams{Group: "manager", UserIDs: []string{"u3", "u2", "u3"}}))
		equal(t, "manager", members("manager"), []string{"u2", "u3"})
		equal(t, "admin untouched", members("admin"), []string{"u1"})
		u1, err := s.UserGet(ctx, "u1")
		must(t, err)
		equal(t, "u1 groups", u1.Groups, []string{"admin"})
	})
	t.Run("new group", func(t *testing.T) {
		must(t, s.GroupSetMembers(ctx, &store.GroupSetMembersParams{Group: "night", UserIDs: []string{"u1"}}))
		equal(t, "night", members("night"), []string{"u1"})
	})
	t.Run("unknown user writes nothing", func(t *testing.T) {
		err := s.GroupSetMembers(ctx, &store.GroupSetMembersParams{Group: "manager", UserIDs: []string{"u1", "ghost"}})
		wantFieldError(t, err, "user_ids")
		equal(t, "manager", members("manager"), []string{"u2", "u3"})
	})
	t.Run("empty set empties", func(t *testing.T) {
		must(t, s.GroupSetMembers(ctx, &store.GroupSetMembersParams{Group: "night", UserIDs: nil}))
		equal(t, "night", members("night"), []string{})
	})
	t.Run("delete", func(t *testing.T) {
		n, err := s.GroupDelete(ctx, "manager")
		must(t, err)
		if n != 2 {
			t.Errorf("GroupDelete = %d, want 2", n)
		}
		equal(t, "manager", members("manager"), []string{})
		_, err = s.GroupDelete(ctx, "manager")
		wantErr(t, err, store.ErrNotFound)
		groups, err := s.GroupList(ctx)
		must(t, err)
		equal(t, "GroupList", groups, []store.Group{{Name: "admin", Members: 1}})
	})
}

func testDeliveryStates(t *testing.T, s store.Store) {
	ctx := t.Context()
	e := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	_, err := s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: e.ID, CreatedAt: t0,
		Recipients: []store.DeliveryRecipient{{UserID: "u1", Address: "ann@x.test"}}})
	must(t, err)
	all, err := s.DeliveryList(ctx, &store.DeliveryListParams{})
	must(t, err)
	got, err := s.DeliveryGet(ctx, all[0].ID)
	must(t, err)
	equal(t, "DeliveryGet", *got, all[0])
	_, err = s.DeliveryGet(ctx, 999999)
	wantErr(t, err, store.ErrNotFound)

	states, err := s.DeliveryStates(ctx, e.ID)
	must(t, err)
	equal(t, "DeliveryStates", states, map[store.DeliveryState]int{store.DeliveryQueued: 1, store.DeliverySending: 0,
		store.DeliverySent: 0, store.DeliveryRetrying: 0, store.DeliveryFailed: 0, store.DeliverySkipped: 0})
	states, err = s.DeliveryStates(ctx, 999999)
	must(t, err)
	if states[store.DeliveryQueued] != 0 || len(states) != len(store.DeliveryStates) {
		t.Errorf("DeliveryStates of an event without deliveries = %v", states)
	}

}

func testMonitorStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	st, err := s.MonitorStats(ctx, t0)
	must(t, err)
	equal(t, "empty stats", *st, store.MonitorStats{DeliveriesByState: map[store.DeliveryState]int{
		store.DeliveryQueued: 0, store.DeliverySending: 0, store.DeliverySent: 0, store.DeliveryRetrying: 0, store.DeliveryFailed: 0, store.DeliverySkipped: 0}})

	e := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	_, err = s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: e.ID, CreatedAt: t0,
		Recipients: []store.DeliveryRecipient{{Address: "a@x.test"}, {Address: "b@x.test"}}})
	must(t, err)
	newEvent(t, s, func(e *store.Event) { e.DueAt = ptr(at(-time.Hour)) })
	newEvent(t, s, func(e *store.Event) { e.DueAt = ptr(at(-2 * time.Hour)) })
	newEvent(t, s, func(e *store.Event) { e.DueAt = ptr(at(time.Hour)) })                                       // not due
	newEvent(t, s, func(e *store.Event) { e.DueAt = ptr(at(-3 * time.Hour)); e.Status = store.EventCancelled }) // not pending

	st, err = s.MonitorStats(ctx, t0)
	must(t, err)
	if st.DeliveriesByState[store.DeliveryQueued] != 2 || st.DeliveriesByState[store.DeliveryFailed] != 0 {
		t.Errorf("DeliveriesByState = %v, want 2 queued", st.DeliveriesByState)
	}
	checkTimePtr(t, "OldestOverdue", st.OldestOverdue, ptr(norm(at(-2*time.Hour))))
}

func testSavepoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	titled := func(title string) func(e *store.Event) { return func(e *store.Event) { e.Title = title } }
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
			newEvent(t, tx, titled("kept"))
			return nil
		}); err != nil {
			return err
		}
		err := tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
			newEvent(t, tx, titled("undone"))
			// A failing statement: on PostgreSQL it would abort the whole
			// transaction without the savepoint.
			return tx.EventInsert(ctx, &store.Event{Key: "no:such:type", Title: "x", Status: store.EventPending, CreatedAt: t0})
		})
		if err == nil {
			t.Error("Savepoint: the failing insert did not fail")
		}
		// Nested savepoints.
		return tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
			newEvent(t, tx, titled("after"))
			_ = tx.Savepoint(ctx, func(ctx context.Context, tx store.Tx) error {
				newEvent(t, tx, titled("inner"))
				return errRollback
			})
			return nil
		})
	})
	must(t, err)
	evs, err := s.EventList(ctx, &store.EventListParams{})
	must(t, err)
	var titles []string
	for _, e := range evs {
		titles = append(titles, e.Title)
	}
	equal(t, "events committed", titles, []string{"after", "kept"})
}

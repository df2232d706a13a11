package storetest

import (
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func testPushSubscriptions(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"ann", "bob"} {
		must(t, s.UserUpsert(ctx, &store.User{ID: id, Active: true}))
	}
	save := func(user, endpoint, key string) store.PushSubscription {
		t.Helper()
		sub := store.PushSubscription{UserID: user, Endpoint: endpoint, P256dh: key, Auth: "a-" + key, CreatedAt: t0}
		must(t, s.PushSubscriptionSave(ctx, &sub))
		if sub.ID == 0 {
			t.Fatalf("PushSubscriptionSave left ID at 0")
		}
		return sub
	}
	a1 := save("ann", "https://push.test/1", "k1")
	a2 := save("ann", "https://push.test/2", "k2")
	b1 := save("bob", "https://push.test/3", "k3")
	ids := func(subs []store.PushSubscription) []int64 {
		var out []int64
		for _, s := range subs {
			out = append(out, s.ID)
		}
		return out
	}

	t.Run("list", func(t *testing.T) {
		got, err := s.PushSubscriptionList(ctx, []string{"ann"})
		must(t, err)
		equal(t, "ann's", ids(got), []int64{a1.ID, a2.ID})
		checkTime(t, "CreatedAt", got[0].CreatedAt, norm(t0))
		equal(t, "first", got[0].Endpoint+" "+got[0].P256dh+" "+got[0].Auth, "https://push.test/1 k1 a-k1")
		all, err := s.PushSubscriptionList(ctx, nil)
		must(t, err)
		equal(t, "all", ids(all), []int64{a1.ID, a2.ID, b1.ID})
		none, err := s.PushSubscriptionList(ctx, []string{"nobody"})
		must(t, err)
		equal(t, "nobody's", len(none), 0)
	})
	t.Run("same endpoint, new keys, other person", func(t *testing.T) {
		again := save("bob", "https://push.test/2", "k9")
		equal(t, "id kept", again.ID, a2.ID)
		got, err := s.PushSubscriptionGet(ctx, a2.ID)
		must(t, err)
		equal(t, "owner and key", got.UserID+" "+got.P256dh, "bob k9")
	})
	t.Run("unknown user", func(t *testing.T) {
		err := s.PushSubscriptionSave(ctx, &store.PushSubscription{UserID: "ghost", Endpoint: "https://push.test/x", P256dh: "k", Auth: "a", CreatedAt: t0})
		wantFieldError(t, err, "user_id")
	})
	t.Run("delete", func(t *testing.T) {
		wantErr(t, s.PushSubscriptionDelete(ctx, "bob", "https://push.test/1"), store.ErrNotFound) // ann's
		must(t, s.PushSubscriptionDelete(ctx, "ann", "https://push.test/1"))
		wantErr(t, s.PushSubscriptionDelete(ctx, "ann", "https://push.test/1"), store.ErrNotFound)
		_, err := s.PushSubscriptionGet(ctx, a1.ID)
		wantErr(t, err, store.ErrNotFound)
	})
	t.Run("remove gone", func(t *testing.T) {
		n, err := s.PushSubscriptionRemove(ctx, []int64{a2.ID, b1.ID, 999999})
		must(t, err)
		equal(t, "removed", n, 2)
		all, err := s.PushSubscriptionList(ctx, nil)
		must(t, err)
		equal(t, "left", len(all), 0)
	})
	t.Run("user deleted", func(t *testing.T) {
		save("ann", "https://push.test/4", "k4")
		must(t, s.UserDelete(ctx, "ann"))
		all, err := s.PushSubscriptionList(ctx, nil)
		must(t, err)
		equal(t, "left", len(all), 0)
	})
}

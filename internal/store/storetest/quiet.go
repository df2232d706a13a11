package storetest

import (
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// testPersonSettings: a person's time zone, quiet hours and unread delay
// round-trip; an upsert that names no zone keeps the stored one; a type's
// unread delay is set apart from TypeUpsert, which keeps it.
func testPersonSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "ann", Active: true, TimeZone: "Europe/Paris"}))
	got, err := s.PersonSettingsGet(ctx, "ann")
	must(t, err)
	if got.TimeZone != "Europe/Paris" || got.QuietHours != "" || got.EmailIfUnreadMinutes != nil {
		t.Errorf("settings of a new user: %+v", got)
	}
	must(t, s.UserUpsert(ctx, &store.User{ID: "ann", Active: true, Name: "Ann"}))
	if u, err := s.UserGet(ctx, "ann"); err != nil || u.TimeZone != "Europe/Paris" {
		t.Errorf("upsert without a zone: %+v %v, want Europe/Paris kept", u, err)
	}
	in := &store.PersonSettings{TimeZone: "Asia/Kolkata", QuietHours: `{"start":"21:00","end":"08:00"}`, EmailIfUnreadMinutes: ptr(30)}
	must(t, s.PersonSettingsSet(ctx, "ann", in))
	got, err = s.PersonSettingsGet(ctx, "ann")
	must(t, err)
	if got.TimeZone != in.TimeZone || got.QuietHours != in.QuietHours || got.EmailIfUnreadMinutes == nil || *got.EmailIfUnreadMinutes != 30 {
		t.Errorf("settings = %+v, want %+v", got, in)
	}
	must(t, s.PersonSettingsSet(ctx, "ann", &store.PersonSettings{}))
	if got, _ := s.PersonSettingsGet(ctx, "ann"); got.TimeZone != "" || got.EmailIfUnreadMinutes != nil {
		t.Errorf("settings cleared = %+v", got)
	}
	_, err = s.PersonSettingsGet(ctx, "zed")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.PersonSettingsSet(ctx, "zed", in), store.ErrNotFound)

	must(t, s.TypeSetEmailIfUnread(ctx, "message:internal", 15))
	typ, err := s.TypeGet(ctx, "message:internal")
	must(t, err)
	typ.Label = "Internal"
	must(t, s.TypeUpsert(ctx, typ))
	if typ, _ := s.TypeGet(ctx, "message:internal"); typ.EmailIfUnreadMinutes != 15 {
		t.Errorf("type unread delay = %d, want 15 kept by TypeUpsert", typ.EmailIfUnreadMinutes)
	}
	wantErr(t, s.TypeSetEmailIfUnread(ctx, "no:such", 5), store.ErrNotFound)
}

// testDeliveryHold: a held delivery is not claimed before its not-before
// time, wakes the sender then (DeliveryNextDue), is listed as held
// meanwhile, and is claimed once due; one held unless read whose
// notification was read is skipped instead; the candidates are the
// people with quiet hours or an unread delay.
func testDeliveryHold(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "ann", Email: "ann@x.test", Active: true}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "bob", Email: "bob@x.test", Active: true}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "cid", Email: "cid@x.test", Active: true}))
	must(t, s.PersonSettingsSet(ctx, "ann", &store.PersonSettings{TimeZone: "Europe/Paris", QuietHours: `{"start":"21:00","end":"08:00"}`}))
	must(t, s.PersonSettingsSet(ctx, "cid", &store.PersonSettings{EmailIfUnreadMinutes: ptr(0)}))
	ev := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	ids := queueDeliveries(t, s, ev.ID,
		store.DeliveryRecipient{UserID: "ann", Address: "ann@x.test", Reason: "direct"},
		store.DeliveryRecipient{UserID: "bob", Address: "bob@x.test", Reason: "direct"},
		store.DeliveryRecipient{UserID: "cid", Address: "cid@x.test", Reason: "direct"},
	)
	_, err := s.NotificationFanOut(ctx, &store.NotificationFanOutParams{EventID: ev.ID, Channel: store.ChannelMessage,
		UserIDs: []string{"bob", "cid"}, CreatedAt: at(0)})
	must(t, err)

	t.Run("candidates", func(t *testing.T) {
		cs, err := s.DeliveryHoldCandidates(ctx, ev.ID, 0)
		must(t, err)
		if len(cs) != 1 || cs[0].UserID != "ann" || cs[0].TimeZone != "Europe/Paris" || cs[0].InApp {
			t.Errorf("candidates without a type delay = %+v, want ann alone, no in-app", cs)
		}
		cs, err = s.DeliveryHoldCandidates(ctx, ev.ID, 10)
		must(t, err)
		if len(cs) != 2 || cs[1].UserID != "bob" || !cs[1].InApp || cs[1].EmailIfUnreadMinutes != nil {
			t.Errorf("candidates with a type delay = %+v, want ann and bob (cid chose 0)", cs)
		}
	})

	must(t, s.DeliveryHold(ctx, []store.DeliveryHoldParams{
		{ID: ids[0], NotBefore: at(time.Hour), Reason: store.HoldQuietHours},
		{ID: ids[1], NotBefore: at(10 * time.Minute), Reason: store.HoldUnread, UnlessRead: true},
	}))
	if d := getDelivery(t, s, ids[0]); d.HoldReason != store.HoldQuietHours {
		t.Errorf("held delivery = %+v", d)
	} else {
		checkTimePtr(t, "NotBefore", d.NotBefore, ptr(norm(at(time.Hour))))
	}
	held, err := s.DeliveryHeldList(ctx, ev.ID, at(time.Minute), 10)
	must(t, err)
	if len(held) != 2 || held[0].UserID != "ann" || held[0].Reason != store.HoldQuietHours || held[1].Reason != store.HoldUnread {
		t.Errorf("held list = %+v", held)
	}
	next, err := s.DeliveryNextDue(ctx, "email")
	must(t, err)
	checkTimePtr(t, "NextDue", next, ptr(norm(at(10*time.Minute))))

	claim := func(owner string, now time.Time) []int64 {
		t.Helper()
		cs, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Owner: owner, Now: now, LeaseUntil: now.Add(24 * time.Hour),
			Limit: 10, MessageIDDomain: "x.test"})
		must(t, err)
		return claimIDs(cs)
	}
	sameIDs(t, "claimed at once", claim("A", at(time.Minute)), []int64{ids[2]})

	// bob reads the in-app notification: his e-mail is skipped when due.
	items, err := s.NotificationList(ctx, &store.NotificationListParams{UserID: "bob", Channel: store.ChannelMessage, Now: at(time.Minute), Limit: 10})
	must(t, err)
	if len(items) != 1 {
		t.Fatalf("bob's notifications: %+v", items)
	}
	must(t, s.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "bob", ID: items[0].ID, ReadAt: ptr(at(2 * time.Minute))}))
	sameIDs(t, "claimed before the delay ends", claim("B", at(9*time.Minute)), nil)
	sameIDs(t, "claimed when the delay ends", claim("C", at(10*time.Minute)), nil)
	if d := getDelivery(t, s, ids[1]); d.State != store.DeliverySkipped || d.LastMessage != store.SkipReasonRead {
		t.Errorf("read delivery = %s %q, want skipped", d.State, d.LastMessage)
	}
	next, err = s.DeliveryNextDue(ctx, "email")
	must(t, err)
	checkTimePtr(t, "NextDue", next, ptr(norm(at(time.Hour))))
	sameIDs(t, "claimed when quiet hours end", claim("D", at(time.Hour)), []int64{ids[0]})
	if held, _ := s.DeliveryHeldList(ctx, ev.ID, at(time.Hour), 10); len(held) != 0 {
		t.Errorf("held after it left: %+v", held)
	}
	if next, _ := s.DeliveryNextDue(ctx, "email"); next != nil {
		t.Errorf("NextDue with nothing held = %v", next)
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

var errRollback = errors.New("storetest: roll back")

func testInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))

	t.Run("commit on nil", func(t *testing.T) {
		var eventID int64
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.UserUpsert(ctx, &store.User{ID: "u1", Active: true, Groups: []string{"g"}, Companies: []string{"acme"}}); err != nil {
				return err
			}
			u, err := tx.UserGet(ctx, "u1") // a transaction sees its own writes
			if err != nil {
				return err
			}
			if len(u.Companies) != 1 {
				t.Errorf("UserGet in tx = %+v", u)
			}
			eventID = newEvent(t, tx, nil).ID
			return nil
		})
		must(t, err)
		if _, err := s.UserGet(ctx, "u1"); err != nil {
			t.Errorf("UserGet after commit: %v", err)
		}
		if _, err := s.EventGet(ctx, eventID); err != nil {
			t.Errorf("EventGet after commit: %v", err)
		}
	})

	t.Run("rollback on error", func(t *testing.T) {
		var eventID int64
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.UserUpsert(ctx, &store.User{ID: "u2", Active: true}); err != nil {
				return err
			}
			if err := tx.UserDelete(ctx, "u1"); err != nil {
				return err
			}
			eventID = newEvent(t, tx, nil).ID
			return errRollback
		})
		wantErr(t, err, errRollback)
		_, err = s.UserGet(ctx, "u2")
		wantErr(t, err, store.ErrNotFound)
		if _, err := s.UserGet(ctx, "u1"); err != nil {
			t.Errorf("UserGet of a user deleted in a rolled back tx: %v", err)
		}
		_, err = s.EventGet(ctx, eventID)
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("failing directory change writes nothing", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.UserUpsert(ctx, &store.User{ID: "u3", Active: true, Groups: []string{"g"}}); err != nil {
				return err
			}
			if err := tx.CompanyUpsert(ctx, &store.Company{ID: "globex", Name: "Globex", Active: true}); err != nil {
				return err
			}
			return tx.UserUpsert(ctx, &store.User{ID: "u4", Active: true, Companies: []string{"acme", "ghost"}})
		})
		wantFieldError(t, err, "companies")
		for _, id := range []string{"u3", "u4"} {
			_, err := s.UserGet(ctx, id)
			wantErr(t, err, store.ErrNotFound)
		}
		_, err = s.CompanyGet(ctx, "globex")
		wantErr(t, err, store.ErrNotFound)
		cs, err := s.GroupContacts(ctx, []string{"g"})
		must(t, err)
		sameContacts(t, "GroupContacts", cs, []store.Contact{{UserID: "u1", Active: true}})
	})

	t.Run("error after a failed query still rolls back", func(t *testing.T) {
		err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			if err := tx.UserUpsert(ctx, &store.User{ID: "u5", Active: true}); err != nil {
				return err
			}
			if _, err := tx.EventGet(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("EventGet in tx: %v, want ErrNotFound", err)
			}
			return errRollback
		})
		wantErr(t, err, errRollback)
		_, err = s.UserGet(ctx, "u5")
		wantErr(t, err, store.ErrNotFound)
	})
}

// testQueriesInTx runs one of each query inside a transaction, checking the
// transaction's view implements them all, then checks what was committed.
func testQueriesInTx(t *testing.T, s store.Store) {
	ctx := t.Context()
	var (
		event, pending, other *store.Event
		notifID               int64
	)
	err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		must(t, tx.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Active: true}))
		if _, err := tx.CompanyGet(ctx, "acme"); err != nil {
			t.Errorf("CompanyGet: %v", err)
		}
		must(t, tx.CompanyUpsert(ctx, &store.Company{ID: "gone", Name: "Gone", Active: true}))
		must(t, tx.CompanyDelete(ctx, "gone"))
		must(t, tx.UserUpsert(ctx, &store.User{ID: "boss", Active: true, Groups: []string{"manager"}}))
		must(t, tx.UserUpsert(ctx, &store.User{ID: "u1", Email: "u1@x.test", Active: true, Groups: []string{"manager", "staff"}, Companies: []string{"acme"}, FollowerID: "boss"}))
		must(t, tx.UserUpsert(ctx, &store.User{ID: "tmp", Active: true}))
		must(t, tx.UserDelete(ctx, "tmp"))
		if cs, err := tx.GroupContacts(ctx, []string{"manager", "staff"}); err != nil || len(cs) != 2 {
			t.Errorf("GroupContacts = %v, %v; want boss and u1", cs, err)
		}
		if cs, err := tx.CompanyContacts(ctx, "acme"); err != nil || len(cs) != 1 {
			t.Errorf("CompanyContacts = %v, %v; want u1", cs, err)
		}
		if cs, err := tx.UserContacts(ctx, []string{"u1", "tmp"}); err != nil || len(cs) != 1 {
			t.Errorf("UserContacts = %v, %v; want u1", cs, err)
		}

		must(t, tx.TypeUpsert(ctx, &store.NotificationType{Key: "tx:type", Label: "Tx", DefaultChannel: store.ChannelMessage, StatusType: store.StatusNeutral}))
		must(t, tx.TypeUpsert(ctx, &store.NotificationType{Key: "tx:tmp", Label: "Tmp", DefaultChannel: store.ChannelMessage, StatusType: store.StatusNeutral}))
		must(t, tx.TypeDelete(ctx, "tx:tmp"))
		if _, err := tx.TypeGet(ctx, "tx:type"); err != nil {
			t.Errorf("TypeGet: %v", err)
		}
		if types, err := tx.TypeList(ctx); err != nil || len(types) != 22 {
			t.Errorf("TypeList = %d types, %v; want 22", len(types), err)
		}

		event = newEvent(t, tx, func(e *store.Event) { e.Key = "tx:type"; e.ContextType, e.ContextID = "doc", "1" })
		pending = newEvent(t, tx, func(e *store.Event) { e.ContextType, e.ContextID = "doc", "1" })
		other = newEvent(t, tx, func(e *store.Event) { e.ContextType, e.ContextID = "doc", "1" })
		wantErr(t, tx.TypeDelete(ctx, "tx:type"), store.ErrInUse)
		must(t, tx.EventFinish(ctx, &store.EventFinishParams{ID: event.ID, Status: store.EventPublished, Channel: store.ChannelMessage, Counts: map[store.Channel]int{store.ChannelMessage: 1}, At: t0}))
		wantErr(t, tx.EventFinish(ctx, &store.EventFinishParams{ID: event.ID, Status: store.EventPublished, At: t0}), store.ErrConflict)
		if ids, err := tx.EventCancelPending(ctx, &store.EventCancelPendingParams{ContextType: "doc", ContextID: "1", ExceptID: other.ID, Reason: "r", At: t0}); err != nil {
			t.Errorf("EventCancelPending: %v", err)
		} else {
			sameIDs(t, "cancelled", ids, []int64{pending.ID})
		}
		if es, err := tx.EventList(ctx, &store.EventListParams{ContextType: "doc"}); err != nil || len(es) != 3 {
			t.Errorf("EventList = %d events, %v; want 3", len(es), err)
		}
		if _, err := tx.EventGet(ctx, event.ID); err != nil {
			t.Errorf("EventGet: %v", err)
		}

		insertNotifications(t, tx, event, store.ChannelMessage, t0, nil, "u1", "boss")
		items := list(t, tx, store.NotificationListParams{UserID: "u1", Now: at(time.Minute)})
		if len(items) != 1 {
			t.Fatalf("NotificationList in tx = %d items, want 1", len(items))
		}
		notifID = items[0].ID
		if _, err := tx.NotificationGet(ctx, "u1", notifID); err != nil {
			t.Errorf("NotificationGet: %v", err)
		}
		if c, err := tx.NotificationCountUnread(ctx, "u1", at(time.Minute)); err != nil || c[store.ChannelMessage] != 1 {
			t.Errorf("NotificationCountUnread = %v, %v", c, err)
		}
		must(t, tx.NotificationPostpone(ctx, &store.NotificationPostponeParams{UserID: "u1", ID: notifID, Until: at(time.Minute)}))
		must(t, tx.NotificationSetRead(ctx, &store.NotificationSetReadParams{UserID: "u1", ID: notifID, ReadAt: ptr(at(2 * time.Minute))}))
		if n, err := tx.NotificationReadAll(ctx, &store.NotificationReadAllParams{UserID: "boss", Channel: store.ChannelMessage, At: at(time.Minute)}); err != nil || n != 1 {
			t.Errorf("NotificationReadAll = %d, %v; want 1", n, err)
		}
		if n, err := tx.NotificationPurge(ctx, &store.NotificationPurgeParams{ReadBefore: at(-time.Hour), ExpiredBefore: at(-time.Hour), Limit: 10}); err != nil || n != 0 {
			t.Errorf("NotificationPurge = %d, %v; want 0", n, err)
		}

		if n, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: event.ID, CreatedAt: t0,
			Recipients: []store.DeliveryRecipient{{UserID: "u1", Address: "u1@x.test"}}}); err != nil || n != 1 {
			t.Errorf("DeliveryInsertMany = %d, %v; want 1", n, err)
		}
		if ds, err := tx.DeliveryList(ctx, &store.DeliveryListParams{EventID: event.ID}); err != nil || len(ds) != 1 {
			t.Errorf("DeliveryList = %v, %v; want 1", ds, err)
		}
		return nil
	})
	must(t, err)

	u, err := s.UserGet(ctx, "u1")
	must(t, err)
	if u.FollowerID != "boss" || len(u.Groups) != 2 || len(u.Companies) != 1 {
		t.Errorf("committed user = %+v", u)
	}
	if _, err := s.UserGet(ctx, "tmp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UserGet(tmp) = %v, want ErrNotFound", err)
	}
	if _, err := s.CompanyGet(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CompanyGet(gone) = %v, want ErrNotFound", err)
	}
	if _, err := s.TypeGet(ctx, "tx:tmp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TypeGet(tx:tmp) = %v, want ErrNotFound", err)
	}
	for id, want := range map[int64]store.EventStatus{event.ID: store.EventPublished, pending.ID: store.EventCancelled, other.ID: store.EventPending} {
		e, err := s.EventGet(ctx, id)
		must(t, err)
		if e.Status != want {
			t.Errorf("event %d is %s, want %s", id, e.Status, want)
		}
	}
	it, err := s.NotificationGet(ctx, "u1", notifID)
	must(t, err)
	checkTimePtr(t, "ReadAt", it.ReadAt, ptr(norm(at(2*time.Minute))))
	checkTime(t, "VisibleAt", it.VisibleAt, norm(at(time.Minute)))
	if ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{}); err != nil || len(ds) != 1 {
		t.Errorf("DeliveryList after commit = %d, %v; want 1", len(ds), err)
	}
}

package storetest

import (
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func testDeliveries(t *testing.T, s store.Store) {
	ctx := t.Context()
	e1 := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	e2 := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })

	t.Run("insert skips known addresses", func(t *testing.T) {
		n, err := s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{
			EventID: e1.ID, CreatedAt: t0,
			Recipients: []store.DeliveryRecipient{
				{UserID: "u1", Address: "ann@x.test"},
				{CompanyID: "acme", Address: "hello@acme.test"},
				{UserID: "u2", Address: "bob@x.test"},
				{UserID: "u3", Address: "ann@x.test"}, // same address: one e-mail
			},
		})
		must(t, err)
		if n != 3 {
			t.Errorf("DeliveryInsertMany = %d, want 3", n)
		}
		n, err = s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{
			EventID: e1.ID, CreatedAt: at(time.Minute),
			Recipients: []store.DeliveryRecipient{
				{UserID: "u1", Address: "ann@x.test"},
				{UserID: "u4", Address: "dan@x.test"},
			},
		})
		must(t, err)
		if n != 1 {
			t.Errorf("second DeliveryInsertMany = %d, want 1", n)
		}
		n, err = s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{
			EventID: e2.ID, CreatedAt: at(2 * time.Minute),
			Recipients: []store.DeliveryRecipient{{UserID: "u1", Address: "ann@x.test"}},
		})
		must(t, err)
		if n != 1 {
			t.Errorf("DeliveryInsertMany for another event = %d, want 1", n)
		}
		n, err = s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: e2.ID, CreatedAt: t0})
		must(t, err)
		if n != 0 {
			t.Errorf("DeliveryInsertMany with no recipients = %d, want 0", n)
		}
	})

	all, err := s.DeliveryList(ctx, &store.DeliveryListParams{})
	must(t, err)
	if len(all) != 5 {
		t.Fatalf("DeliveryList = %d deliveries, want 5", len(all))
	}

	t.Run("list items", func(t *testing.T) {
		for i := 1; i < len(all); i++ {
			if all[i-1].ID <= all[i].ID {
				t.Fatalf("DeliveryList is not newest first: %d before %d", all[i-1].ID, all[i].ID)
			}
		}
		wantAddr := []string{"ann@x.test", "dan@x.test", "bob@x.test", "hello@acme.test", "ann@x.test"}
		wantEvent := []int64{e2.ID, e1.ID, e1.ID, e1.ID, e1.ID}
		wantCreated := []time.Time{at(2 * time.Minute), at(time.Minute), t0, t0, t0}
		for i, d := range all {
			if d.Address != wantAddr[i] || d.EventID != wantEvent[i] {
				t.Errorf("delivery %d = %s of event %d, want %s of event %d", i, d.Address, d.EventID, wantAddr[i], wantEvent[i])
			}
			if d.State != store.DeliveryQueued || d.Attempts != 0 || d.LastCode != 0 || d.LastMessage != "" {
				t.Errorf("delivery %d = %+v, want a fresh queued one", i, d)
			}
			checkTime(t, "CreatedAt", d.CreatedAt, norm(wantCreated[i]))
			checkTime(t, "UpdatedAt", d.UpdatedAt, norm(wantCreated[i]))
			checkTimePtr(t, "SentAt", d.SentAt, nil)
		}
		if d := all[3]; d.CompanyID != "acme" || d.UserID != "" {
			t.Errorf("company delivery = %+v, want company acme, no user", d)
		}
		if d := all[4]; d.UserID != "u1" || d.CompanyID != "" {
			t.Errorf("user delivery = %+v, want user u1 (the first given for the address)", d)
		}
	})

	ids := func(ds []store.Delivery) []int64 {
		out := make([]int64, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	allIDs := ids(all)
	tests := []struct {
		name string
		p    store.DeliveryListParams
		want []int64
	}{
		{"event", store.DeliveryListParams{EventID: e1.ID}, allIDs[1:]},
		{"other event", store.DeliveryListParams{EventID: e2.ID}, allIDs[:1]},
		{"unknown event", store.DeliveryListParams{EventID: 999999}, nil},
		{"state queued", store.DeliveryListParams{State: store.DeliveryQueued}, allIDs},
		{"state sent", store.DeliveryListParams{State: store.DeliverySent}, nil},
		{"limit", store.DeliveryListParams{Limit: 2}, allIDs[:2]},
		{"before id", store.DeliveryListParams{BeforeID: allIDs[1], Limit: 2}, allIDs[2:4]},
		{"event and before id", store.DeliveryListParams{EventID: e1.ID, BeforeID: allIDs[3]}, allIDs[4:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.DeliveryList(ctx, &tc.p)
			must(t, err)
			sameIDs(t, "ids", ids(got), tc.want)
		})
	}
}

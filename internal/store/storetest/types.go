package storetest

import (
	"slices"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func testTypes(t *testing.T, s store.Store) {
	ctx := t.Context()

	t.Run("seeded", func(t *testing.T) {
		list, err := s.TypeList(ctx)
		must(t, err)
		if len(list) != 21 {
			t.Fatalf("TypeList returned %d types, want the 21 seeded ones", len(list))
		}
		if !slices.IsSortedFunc(list, func(a, b store.NotificationType) int { return strings.Compare(a.Key, b.Key) }) {
			t.Errorf("TypeList is not ordered by key")
		}
		for _, typ := range list {
			if !typ.Builtin {
				t.Errorf("seeded type %s: Builtin = false", typ.Key)
			}
			if !typ.DefaultChannel.Valid() || !typ.StatusType.Valid() || typ.Label == "" {
				t.Errorf("seeded type %+v is malformed", typ)
			}
		}
		tests := []struct {
			key     string
			channel store.Channel
			status  store.StatusType
		}{
			{"message:internal", store.ChannelMessage, store.StatusNeutral},
			{"message:system", store.ChannelAlert, store.StatusCaution},
			{"task:status:valid", store.ChannelEmail, store.StatusValid},
			{"task:status:invalid", store.ChannelEmail, store.StatusInvalid},
			{"task:status:paid", store.ChannelEmail, store.StatusValid},
			{"task:status:resulted", store.ChannelEmail, store.StatusValid},
			{"expense:status:invalid", store.ChannelEmail, store.StatusInvalid},
			{"supplier_invoice:status:paid", store.ChannelEmail, store.StatusValid},
			{"supplier_order:status:resulted", store.ChannelEmail, store.StatusValid},
			{"userdata:reminder", store.ChannelMessage, store.StatusDocument},
			{"workshop:reminder", store.ChannelMessage, store.StatusCalendar},
			{"activity:reminder", store.ChannelMessage, store.StatusCalendar},
		}
		for _, tc := range tests {
			t.Run(tc.key, func(t *testing.T) {
				typ, err := s.TypeGet(ctx, tc.key)
				must(t, err)
				if typ.Key != tc.key || typ.DefaultChannel != tc.channel || typ.StatusType != tc.status || !typ.Builtin {
					t.Errorf("TypeGet(%s) = %+v, want channel %s, status %s, builtin", tc.key, typ, tc.channel, tc.status)
				}
			})
		}
	})

	t.Run("upsert new", func(t *testing.T) {
		in := &store.NotificationType{
			Key:            "invoice:overdue",
			Label:          "Invoice overdue",
			DefaultChannel: store.ChannelHeaderMessage,
			StatusType:     store.StatusCaution,
			Builtin:        true, // ignored: a new type is never builtin
			UpdatedAt:      t0,
		}
		must(t, s.TypeUpsert(ctx, in))
		if in.Builtin {
			t.Errorf("TypeUpsert left Builtin = true on a new type")
		}
		got, err := s.TypeGet(ctx, "invoice:overdue")
		must(t, err)
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(t0))
		got.UpdatedAt = t0
		equal(t, "TypeGet", *got, store.NotificationType{
			Key: "invoice:overdue", Label: "Invoice overdue", DefaultChannel: store.ChannelHeaderMessage,
			StatusType: store.StatusCaution, Builtin: false, UpdatedAt: t0,
		})
		list, err := s.TypeList(ctx)
		must(t, err)
		if len(list) != 22 {
			t.Errorf("TypeList returned %d types, want 22", len(list))
		}
	})

	t.Run("upsert builtin keeps builtin", func(t *testing.T) {
		in := &store.NotificationType{
			Key:            "message:internal",
			Label:          "Message from a colleague",
			DefaultChannel: store.ChannelHeaderMessage,
			StatusType:     store.StatusValid,
		}
		must(t, s.TypeUpsert(ctx, in))
		got, err := s.TypeGet(ctx, "message:internal")
		must(t, err)
		if !got.Builtin || got.Label != in.Label || got.DefaultChannel != in.DefaultChannel || got.StatusType != in.StatusType {
			t.Errorf("TypeGet after upsert = %+v, want the new label, channel, status and builtin kept", got)
		}
		checkRecent(t, "UpdatedAt (zero given)", got.UpdatedAt)
	})

	t.Run("not found", func(t *testing.T) {
		_, err := s.TypeGet(ctx, "no:such:type")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.TypeDelete(ctx, "no:such:type"), store.ErrNotFound)
	})

	t.Run("delete unused", func(t *testing.T) {
		must(t, s.TypeUpsert(ctx, &store.NotificationType{
			Key: "tmp:unused", Label: "Unused", DefaultChannel: store.ChannelEmail, StatusType: store.StatusNeutral,
		}))
		must(t, s.TypeDelete(ctx, "tmp:unused"))
		_, err := s.TypeGet(ctx, "tmp:unused")
		wantErr(t, err, store.ErrNotFound)
		wantErr(t, s.TypeDelete(ctx, "tmp:unused"), store.ErrNotFound)
	})

	t.Run("delete used is refused", func(t *testing.T) {
		must(t, s.TypeUpsert(ctx, &store.NotificationType{
			Key: "tmp:used", Label: "Used", DefaultChannel: store.ChannelMessage, StatusType: store.StatusNeutral,
		}))
		for range 3 {
			newEvent(t, s, func(e *store.Event) { e.Key = "tmp:used" })
		}
		err := s.TypeDelete(ctx, "tmp:used")
		wantErr(t, err, store.ErrInUse)
		if !strings.Contains(err.Error(), "3") {
			t.Errorf("TypeDelete error %q does not say how many events use the type (3)", err)
		}
		if _, err := s.TypeGet(ctx, "tmp:used"); err != nil {
			t.Errorf("TypeGet after refused delete: %v", err)
		}
	})
}

package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()

	var full *store.Event
	t.Run("insert and get", func(t *testing.T) {
		due, until := at(time.Hour), at(48*time.Hour)
		full = newEvent(t, s, func(e *store.Event) {
			e.Key = "workshop:reminder"
			e.Title = "Workshop tomorrow"
			e.Body = "Room 3, <b>bring</b> a laptop"
			e.DueAt, e.Until = &due, &until
			e.ContextType, e.ContextID = "workshop", "17"
			e.CheckURL = "https://host.test/check/17"
			e.ForceChannel = store.ChannelAlert
			e.Recipients = store.Recipients{
				GroupNames: []string{"admin", "manager"}, UserIDs: []string{"u1", "u2"},
				CompanyID: "acme", FollowerUserID: "u3",
			}
		})
		if full.ID <= 0 {
			t.Fatalf("EventInsert set ID = %d", full.ID)
		}
		checkTime(t, "CreatedAt after insert", full.CreatedAt, norm(t0))
		checkTime(t, "UpdatedAt after insert", full.UpdatedAt, norm(t0))

		got, err := s.EventGet(ctx, full.ID)
		must(t, err)
		checkTime(t, "CreatedAt", got.CreatedAt, norm(t0))
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(t0))
		checkTimePtr(t, "DueAt", got.DueAt, ptr(norm(due)))
		checkTimePtr(t, "Until", got.Until, ptr(norm(until)))
		checkTimePtr(t, "PublishedAt", got.PublishedAt, nil)
		if len(got.Counts) != 0 {
			t.Errorf("Counts = %v, want none", got.Counts)
		}
		want := *full
		got.CreatedAt, got.UpdatedAt, got.DueAt, got.Until, got.Counts = want.CreatedAt, want.UpdatedAt, want.DueAt, want.Until, want.Counts
		equal(t, "EventGet", *got, want)
	})

	t.Run("report", func(t *testing.T) {
		created := &store.SendReport{UnknownGroupNames: []string{"ghosts"}}
		e := newEvent(t, s, func(e *store.Event) { e.Report = created })
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		equal(t, "report after insert", got.Report, created)
		// Finishing without a report keeps it; with one replaces it.
		must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: e.ID, Status: store.EventPublished, At: at(time.Minute),
			Report: &store.SendReport{UnknownUserIDs: []string{"u9"}, Unreachable: []store.Unreachable{
				{Kind: "user", ID: "u1", Reason: store.ReasonInactive}}, UnreachableMore: 3}}))
		got, err = s.EventGet(ctx, e.ID)
		must(t, err)
		equal(t, "report after publish", got.Report, &store.SendReport{UnknownUserIDs: []string{"u9"},
			Unreachable: []store.Unreachable{{Kind: "user", ID: "u1", Reason: store.ReasonInactive}}, UnreachableMore: 3})
		plain := newEvent(t, s, nil)
		must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: plain.ID, Status: store.EventCancelled, At: at(time.Minute)}))
		got, err = s.EventGet(ctx, plain.ID)
		must(t, err)
		if got.Report != nil {
			t.Errorf("report of an event without one = %+v", got.Report)
		}
	})

	t.Run("insert sets times when zero", func(t *testing.T) {
		e := newEvent(t, s, func(e *store.Event) { e.CreatedAt = time.Time{} })
		checkRecent(t, "CreatedAt", e.CreatedAt)
		checkTime(t, "UpdatedAt", e.UpdatedAt, e.CreatedAt)
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		checkTime(t, "stored CreatedAt", got.CreatedAt, e.CreatedAt)
		checkTime(t, "stored UpdatedAt", got.UpdatedAt, e.CreatedAt)
	})

	t.Run("insert with unknown key", func(t *testing.T) {
		err := s.EventInsert(ctx, &store.Event{Key: "no:such:type", Title: "x", Status: store.EventPending, CreatedAt: t0})
		wantErr(t, err, store.ErrInvalid)
	})

	t.Run("get missing", func(t *testing.T) {
		_, err := s.EventGet(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("finish publishes once", func(t *testing.T) {
		e := newEvent(t, s, nil)
		p := &store.EventFinishParams{
			ID: e.ID, Status: store.EventPublished, Reason: "published by scheduler",
			Channel: store.ChannelAlert, Counts: map[store.Channel]int{store.ChannelAlert: 3}, At: at(time.Minute),
		}
		must(t, s.EventFinish(ctx, p))
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		if got.Status != store.EventPublished || got.StatusReason != p.Reason || got.Channel != store.ChannelAlert {
			t.Errorf("EventGet = %+v, want published on alert with the reason", got)
		}
		equal(t, "Counts", got.Counts, map[store.Channel]int{store.ChannelAlert: 3})
		checkTimePtr(t, "PublishedAt", got.PublishedAt, ptr(norm(p.At)))
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(p.At))
		checkTime(t, "CreatedAt", got.CreatedAt, norm(t0))

		again := *p
		again.Status = store.EventCancelled
		again.At = at(2 * time.Minute)
		err = s.EventFinish(ctx, &again)
		wantErr(t, err, store.ErrConflict)
		if !strings.Contains(err.Error(), "published") {
			t.Errorf("EventFinish error %q does not say the current status", err)
		}
		got, err = s.EventGet(ctx, e.ID)
		must(t, err)
		if got.Status != store.EventPublished {
			t.Errorf("status after refused finish = %s, want published", got.Status)
		}
		checkTime(t, "UpdatedAt after refused finish", got.UpdatedAt, norm(p.At))
	})

	t.Run("finish without channel or counts keeps them", func(t *testing.T) {
		e := newEvent(t, s, func(e *store.Event) {
			e.Channel = store.ChannelMessage
			e.Counts = map[store.Channel]int{store.ChannelMessage: 1}
		})
		must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: e.ID, Status: store.EventExpired, Reason: "past until", At: at(time.Hour)}))
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		if got.Status != store.EventExpired || got.StatusReason != "past until" || got.Channel != store.ChannelMessage {
			t.Errorf("EventGet = %+v, want expired, channel message kept", got)
		}
		equal(t, "Counts", got.Counts, map[store.Channel]int{store.ChannelMessage: 1})
		checkTimePtr(t, "PublishedAt", got.PublishedAt, nil)
	})

	t.Run("finish an event inserted published", func(t *testing.T) {
		published := at(time.Minute)
		e := newEvent(t, s, func(e *store.Event) {
			e.Status, e.PublishedAt, e.Channel = store.EventPublished, &published, store.ChannelMessage
		})
		// Only its outcome is written: published_at stays the insert's.
		must(t, s.EventFinish(ctx, &store.EventFinishParams{ID: e.ID, Status: store.EventPublished, Reason: "fallback",
			Channel: store.ChannelMessage, Counts: map[store.Channel]int{store.ChannelMessage: 2}, At: at(2 * time.Minute),
			InsertedPublished: true}))
		got, err := s.EventGet(ctx, e.ID)
		must(t, err)
		if got.Status != store.EventPublished || got.StatusReason != "fallback" {
			t.Errorf("EventGet = %+v, want published with the reason", got)
		}
		equal(t, "Counts", got.Counts, map[store.Channel]int{store.ChannelMessage: 2})
		checkTimePtr(t, "PublishedAt", got.PublishedAt, ptr(norm(published)))
		checkTime(t, "UpdatedAt", got.UpdatedAt, norm(at(2*time.Minute)))

		// A pending event is not one inserted published, and the flag
		// finishes nothing but a publication.
		pending := newEvent(t, s, nil)
		err = s.EventFinish(ctx, &store.EventFinishParams{ID: pending.ID, Status: store.EventPublished, At: at(time.Minute), InsertedPublished: true})
		wantErr(t, err, store.ErrConflict)
		err = s.EventFinish(ctx, &store.EventFinishParams{ID: e.ID, Status: store.EventCancelled, At: at(time.Minute), InsertedPublished: true})
		wantErr(t, err, store.ErrInvalid)
		got, err = s.EventGet(ctx, pending.ID)
		must(t, err)
		if got.Status != store.EventPending {
			t.Errorf("status of the pending event = %s, want pending", got.Status)
		}
	})

	t.Run("finish missing", func(t *testing.T) {
		err := s.EventFinish(ctx, &store.EventFinishParams{ID: 999999, Status: store.EventPublished, At: t0})
		wantErr(t, err, store.ErrNotFound)
	})
}

func testEventList(t *testing.T, s store.Store) {
	ctx := t.Context()
	type spec struct {
		key, ctxType, ctxID string
		status              store.EventStatus
	}
	specs := []spec{
		{"message:internal", "invoice", "1", store.EventPending},
		{"message:system", "invoice", "1", store.EventPublished},
		{"message:internal", "invoice", "2", store.EventPending},
		{"workshop:reminder", "", "", store.EventCancelled},
		{"message:internal", "quote", "1", store.EventPublished},
		{"workshop:reminder", "invoice", "1", store.EventPending},
	}
	ids := make([]int64, len(specs))
	for i, sp := range specs {
		e := newEvent(t, s, func(e *store.Event) {
			e.Key, e.ContextType, e.ContextID, e.Status = sp.key, sp.ctxType, sp.ctxID, sp.status
		})
		ids[i] = e.ID
	}
	// rev returns the ids of specs at idx, newest first.
	rev := func(idx ...int) []int64 {
		out := make([]int64, 0, len(idx))
		for i := len(idx) - 1; i >= 0; i-- {
			out = append(out, ids[idx[i]])
		}
		return out
	}
	tests := []struct {
		name string
		p    store.EventListParams
		want []int64
	}{
		{"all, newest first", store.EventListParams{}, rev(0, 1, 2, 3, 4, 5)},
		{"status", store.EventListParams{Status: store.EventPending}, rev(0, 2, 5)},
		{"context", store.EventListParams{ContextType: "invoice", ContextID: "1"}, rev(0, 1, 5)},
		{"context type", store.EventListParams{ContextType: "invoice"}, rev(0, 1, 2, 5)},
		{"key", store.EventListParams{Key: "workshop:reminder"}, rev(3, 5)},
		{"combined", store.EventListParams{Key: "message:internal", Status: store.EventPending, ContextType: "invoice"}, rev(0, 2)},
		{"limit", store.EventListParams{Limit: 2}, rev(4, 5)},
		{"before id", store.EventListParams{BeforeID: ids[4], Limit: 2}, rev(2, 3)},
		{"last page", store.EventListParams{BeforeID: ids[2]}, rev(0, 1)},
		{"past the end", store.EventListParams{BeforeID: ids[0]}, nil},
		{"limit above max", store.EventListParams{Limit: 100000}, rev(0, 1, 2, 3, 4, 5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.EventList(ctx, &tc.p)
			must(t, err)
			gotIDs := make([]int64, len(got))
			for i, e := range got {
				gotIDs[i] = e.ID
			}
			sameIDs(t, "ids", gotIDs, tc.want)
		})
	}
	t.Run("items are complete", func(t *testing.T) {
		got, err := s.EventList(ctx, &store.EventListParams{Limit: 1})
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("got %d events, want 1", len(got))
		}
		one, err := s.EventGet(ctx, got[0].ID)
		must(t, err)
		equal(t, "EventList item", got[0], *one)
	})
	t.Run("default limit 50", func(t *testing.T) {
		for range 50 {
			newEvent(t, s, nil)
		}
		got, err := s.EventList(ctx, &store.EventListParams{})
		must(t, err)
		if len(got) != 50 {
			t.Errorf("EventList without limit returned %d events, want 50", len(got))
		}
	})
}

func testEventCancelPending(t *testing.T, s store.Store) {
	ctx := t.Context()
	mk := func(key, ctxType, ctxID string, status store.EventStatus) int64 {
		return newEvent(t, s, func(e *store.Event) {
			e.Key, e.ContextType, e.ContextID, e.Status = key, ctxType, ctxID, status
		}).ID
	}
	p1 := mk("workshop:reminder", "invoice", "7", store.EventPending)
	p2 := mk("activity:reminder", "invoice", "7", store.EventPending)
	p3 := mk("workshop:reminder", "invoice", "7", store.EventPending)
	done := mk("workshop:reminder", "invoice", "7", store.EventPublished)
	other := mk("workshop:reminder", "invoice", "8", store.EventPending)
	otherType := mk("workshop:reminder", "quote", "7", store.EventPending)

	status := func(t *testing.T, id int64) *store.Event {
		t.Helper()
		e, err := s.EventGet(ctx, id)
		must(t, err)
		return e
	}

	t.Run("by key, except one", func(t *testing.T) {
		ids, err := s.EventCancelPending(ctx, &store.EventCancelPendingParams{
			ContextType: "invoice", ContextID: "7", Key: "workshop:reminder", ExceptID: p3,
			Reason: "rescheduled", At: at(time.Hour),
		})
		must(t, err)
		sameIDs(t, "cancelled", ids, []int64{p1})
		e := status(t, p1)
		if e.Status != store.EventCancelled || e.StatusReason != "rescheduled" {
			t.Errorf("event = %+v, want cancelled: rescheduled", e)
		}
		checkTime(t, "UpdatedAt", e.UpdatedAt, norm(at(time.Hour)))
		for _, id := range []int64{p2, p3, other, otherType} {
			if e := status(t, id); e.Status != store.EventPending {
				t.Errorf("event %d is %s, want still pending", id, e.Status)
			}
		}
	})

	t.Run("whole context, ascending ids", func(t *testing.T) {
		ids, err := s.EventCancelPending(ctx, &store.EventCancelPendingParams{
			ContextType: "invoice", ContextID: "7", Reason: "invoice deleted", At: at(2 * time.Hour),
		})
		must(t, err)
		sameIDs(t, "cancelled", ids, []int64{p2, p3})
		if e := status(t, done); e.Status != store.EventPublished {
			t.Errorf("published event became %s", e.Status)
		}
		if e := status(t, p1); e.StatusReason != "rescheduled" {
			t.Errorf("already cancelled event was cancelled again: %+v", e)
		}
	})

	t.Run("nothing left", func(t *testing.T) {
		ids, err := s.EventCancelPending(ctx, &store.EventCancelPendingParams{
			ContextType: "invoice", ContextID: "7", Reason: "again", At: at(3 * time.Hour),
		})
		must(t, err)
		sameIDs(t, "cancelled", ids, nil)
	})

	t.Run("context required", func(t *testing.T) {
		for _, p := range []store.EventCancelPendingParams{
			{ContextType: "invoice", Reason: "x", At: t0},
			{ContextID: "8", Reason: "x", At: t0},
		} {
			_, err := s.EventCancelPending(ctx, &p)
			wantErr(t, err, store.ErrInvalid)
		}
		if e := status(t, other); e.Status != store.EventPending {
			t.Errorf("event %d is %s, want still pending", other, e.Status)
		}
	})
}

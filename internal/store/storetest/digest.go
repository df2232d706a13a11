package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

func daily(cat, at string, next time.Time) store.DigestSetting {
	return store.DigestSetting{Category: cat, Frequency: store.DigestDaily, At: at, NextAt: &next}
}

// testDigestSettings: schedules are replaced whole and read back by
// category; DigestHolders applies a category's schedule over the
// person's; an immediate one holds nothing; an unknown person is
// ErrNotFound; the person's time zone is read.
func testDigestSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, id := range []string{"alice", "bob", "carol"} {
		must(t, s.UserUpsert(ctx, &store.User{ID: id, Email: id + "@x.test", Active: true}))
	}
	must(t, s.DigestSettingReplace(ctx, "alice", []store.DigestSetting{daily("", "08:00", at(time.Hour))}, t0))
	must(t, s.DigestSettingReplace(ctx, "bob", []store.DigestSetting{
		daily("", "08:00", at(time.Hour)),
		{Category: "task", Frequency: store.DigestImmediate},
	}, t0))
	must(t, s.DigestSettingReplace(ctx, "carol", []store.DigestSetting{
		{Category: "task", Frequency: store.DigestWeekly, At: "09:30", Day: "monday", NextAt: ptr(at(2 * time.Hour))},
	}, t0))
	got, err := s.DigestSettingList(ctx, "bob")
	must(t, err)
	if len(got) != 2 || got[0].Category != "" || got[0].At != "08:00" || got[0].NextAt == nil || !got[0].NextAt.Equal(norm(at(time.Hour))) ||
		got[1].Category != "task" || got[1].Frequency != store.DigestImmediate || got[1].NextAt != nil || got[1].UpdatedAt.Location() != time.UTC {
		t.Errorf("bob's schedules: %+v", got)
	}
	holders, err := s.DigestHolders(ctx, "task", nil)
	must(t, err)
	if want := map[string]string{"alice": "", "carol": "task"}; !maps.Equal(holders, want) {
		t.Errorf("task holders %v, want %v", holders, want)
	}
	holders, err = s.DigestHolders(ctx, "expense", []string{"alice", "bob", "carol"})
	must(t, err)
	if want := map[string]string{"alice": "", "bob": ""}; !maps.Equal(holders, want) {
		t.Errorf("expense holders %v, want %v", holders, want)
	}
	if holders, _ := s.DigestHolders(ctx, "expense", []string{"carol"}); len(holders) != 0 {
		t.Errorf("among carol: %v", holders)
	}
	if err := s.DigestSettingReplace(ctx, "zed", nil, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
	if tz, err := s.UserTimeZone(ctx, "alice"); err != nil || tz != "" {
		t.Errorf("time zone %q %v", tz, err)
	}
	if _, err := s.UserTimeZone(ctx, "zed"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user's zone: %v", err)
	}
	// Deleting a person deletes their schedules.
	must(t, s.UserDelete(ctx, "carol"))
	if got, _ := s.DigestSettingList(ctx, "carol"); len(got) != 0 {
		t.Errorf("carol's after delete: %v", got)
	}
}

// testDigestRun: held items are claimed when their schedule is due, newest
// first with their event as it is now; completing queues a delivery
// (event id: the digest's negated), marks the items and moves the
// schedule; a schedule not due is not claimed; switching to immediate
// makes what is held due at once.
func testDigestRun(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "alice", Email: "alice@x.test", Name: "Alice", Locale: "en", Active: true}))
	must(t, s.UserUpsert(ctx, &store.User{ID: "bob", Email: "bob@x.test", Active: true}))
	must(t, s.DigestSettingReplace(ctx, "alice", []store.DigestSetting{daily("", "08:00", at(time.Hour))}, t0))
	must(t, s.DigestSettingReplace(ctx, "bob", []store.DigestSetting{daily("", "08:00", at(3*time.Hour))}, t0))
	var evs []*store.Event
	for i := range 3 {
		evs = append(evs, newEvent(t, s, func(e *store.Event) {
			e.Key, e.Title, e.CreatedAt = "task:status:valid", fmt.Sprint("T", i), at(time.Duration(i)*time.Minute)
			e.URL = fmt.Sprint("https://erp.example.org/t/", i)
		}))
		n, err := s.DigestItemInsertMany(ctx, &store.DigestItemInsertParams{EventID: evs[i].ID, Category: "task",
			Items: []store.DigestHold{{UserID: "alice", Reason: "direct"}, {UserID: "bob", Reason: "direct"}}, CreatedAt: at(time.Duration(i) * time.Minute)})
		must(t, err)
		if n != 2 {
			t.Fatalf("held %d, want 2", n)
		}
	}
	claim := func(now time.Time) (out []store.DueDigest) {
		must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
			var err error
			out, err = tx.DigestClaim(ctx, &store.DigestClaimParams{Now: now, Limit: 10})
			return err
		}))
		return out
	}
	if due := claim(at(30 * time.Minute)); len(due) != 0 {
		t.Fatalf("nothing due yet: %+v", due)
	}
	due := claim(at(time.Hour))
	if len(due) != 1 || due[0].UserID != "alice" || due[0].Email != "alice@x.test" || due[0].Locale != "en" || !due[0].Active || len(due[0].Items) != 3 {
		t.Fatalf("due: %+v", due)
	}
	var titles []string
	for _, it := range due[0].Items {
		titles = append(titles, it.Title)
		if it.StatusType != store.StatusValid || it.Key != "task:status:valid" || it.EventStatus != store.EventPending ||
			it.URL != "https://erp.example.org/t/"+strings.TrimPrefix(it.Title, "T") {
			t.Errorf("item %+v", it)
		}
	}
	if !slices.Equal(titles, []string{"T2", "T1", "T0"}) {
		t.Errorf("titles %v, want newest first", titles)
	}
	next := at(25 * time.Hour)
	d := store.Digest{UserID: "alice", Address: "alice@x.test", Subject: "S", HTML: "<p>H</p>", Text: "H", Locale: "en",
		ItemIDs: []int64{due[0].Items[0].ItemID, due[0].Items[1].ItemID}, Created: at(time.Hour)}
	p := &store.DigestCompleteParams{Digests: []store.Digest{d}, Dropped: []int64{due[0].Items[2].ItemID},
		Next: []store.DigestNext{{UserID: "alice", At: &next}}, At: at(time.Hour)}
	must(t, s.InTx(ctx, func(ctx context.Context, tx store.Tx) error { return tx.DigestComplete(ctx, p) }))
	dg := p.Digests[0]
	if dg.ID <= 0 || dg.Delivery <= 0 {
		t.Fatalf("digest %+v: want ids", dg)
	}
	del, err := s.DeliveryGet(ctx, dg.Delivery)
	must(t, err)
	if del.DigestID() != dg.ID || del.Address != "alice@x.test" || del.State != store.DeliveryQueued || del.UserID != "alice" || del.Reason != "digest" {
		t.Errorf("delivery %+v", del)
	}
	got, err := s.DigestGet(ctx, dg.ID)
	must(t, err)
	if got.Subject != "S" || got.HTML != "<p>H</p>" || got.Text != "H" || got.Locale != "en" || got.UserID != "alice" {
		t.Errorf("digest %+v", got)
	}
	if n, _ := s.DigestItemCount(ctx, "alice"); n != 0 {
		t.Errorf("alice still holds %d", n)
	}
	if n, _ := s.DigestItemCount(ctx, "bob"); n != 3 {
		t.Errorf("bob holds %d, want 3", n)
	}
	if due := claim(at(2 * time.Hour)); len(due) != 0 {
		t.Errorf("alice's next is tomorrow: %+v", due)
	}
	// Bob goes immediate: what he holds is due at once.
	must(t, s.DigestSettingReplace(ctx, "bob", nil, at(90*time.Minute)))
	due = claim(at(90 * time.Minute))
	if len(due) != 1 || due[0].UserID != "bob" || due[0].Setting.Frequency != store.DigestImmediate || len(due[0].Items) != 3 {
		t.Fatalf("bob's flush: %+v", due)
	}
	if holders, _ := s.DigestHolders(ctx, "task", nil); len(holders) != 1 {
		t.Errorf("holders after bob's change: %v", holders)
	}
	if _, err := s.DigestGet(ctx, 999999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown digest: %v", err)
	}
}

// testDigestClaimConcurrent: several claimers in their own transactions
// never take the same schedule.
func testDigestClaimConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const total = 60
	ev := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	for i := range total {
		id := fmt.Sprint("u", i)
		must(t, s.UserUpsert(ctx, &store.User{ID: id, Email: id + "@x.test", Active: true}))
		must(t, s.DigestSettingReplace(ctx, id, []store.DigestSetting{daily("", "08:00", t0)}, t0))
		_, err := s.DigestItemInsertMany(ctx, &store.DigestItemInsertParams{EventID: ev.ID, Category: "task",
			Items: []store.DigestHold{{UserID: id}}, CreatedAt: t0})
		must(t, err)
	}
	var (
		mu    sync.Mutex
		seen  = map[string]int{}
		wg    sync.WaitGroup
		later = at(48 * time.Hour)
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var n int
				err := s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					due, err := tx.DigestClaim(ctx, &store.DigestClaimParams{Now: at(time.Hour), Limit: 5})
					if err != nil {
						return err
					}
					n = len(due)
					p := &store.DigestCompleteParams{At: at(time.Hour)}
					for _, d := range due {
						p.Next = append(p.Next, store.DigestNext{UserID: d.UserID, At: &later})
						p.Digests = append(p.Digests, store.Digest{UserID: d.UserID, Address: d.Email, Subject: "S", ItemIDs: []int64{d.Items[0].ItemID}})
						mu.Lock()
						seen[d.UserID]++
						mu.Unlock()
					}
					if err := tx.DigestComplete(ctx, p); err != nil {
						return err
					}
					// Each digest's delivery goes to its own person.
					for _, d := range p.Digests {
						del, err := tx.DeliveryGet(ctx, d.Delivery)
						if err != nil {
							return err
						}
						if del.DigestID() != d.ID || del.UserID != d.UserID || del.Address != d.UserID+"@x.test" {
							t.Errorf("digest %d of %s: delivery %+v", d.ID, d.UserID, del)
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != total {
		t.Errorf("claimed %d schedules, want %d", len(seen), total)
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("%s claimed %d times", u, n)
		}
	}
}

package storetest

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// claimIDs returns the ids of claimed deliveries.
func claimIDs(cs []store.ClaimedDelivery) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func getDelivery(t testing.TB, q store.Queries, id int64) *store.Delivery {
	t.Helper()
	d, err := q.DeliveryGet(t.Context(), id)
	if err != nil {
		t.Fatalf("DeliveryGet(%d): %v", id, err)
	}
	return d
}

// queueDeliveries inserts deliveries of eventID and returns their ids in
// the order given.
func queueDeliveries(t testing.TB, s store.Store, eventID int64, rs ...store.DeliveryRecipient) []int64 {
	t.Helper()
	ctx := t.Context()
	n, err := s.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: eventID, Recipients: rs, CreatedAt: t0})
	must(t, err)
	if n != len(rs) {
		t.Fatalf("DeliveryInsertMany = %d, want %d", n, len(rs))
	}
	ds, err := s.DeliveryList(ctx, &store.DeliveryListParams{EventID: eventID, Limit: 1000})
	must(t, err)
	byAddr := map[string]int64{}
	for _, d := range ds {
		byAddr[d.Address] = d.ID
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = byAddr[r.Address]
	}
	return ids
}

func testDeliveryClaim(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.UserUpsert(ctx, &store.User{ID: "u1", Email: "ann@x.test", Name: "Ann", Locale: "en", Active: true}))
	must(t, s.CompanyUpsert(ctx, &store.Company{ID: "acme", Name: "ACME", Email: "hello@acme.test", Active: true}))
	ev := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	ids := queueDeliveries(t, s, ev.ID,
		store.DeliveryRecipient{UserID: "u1", Address: "ann@x.test", Reason: "group:manager"},
		store.DeliveryRecipient{CompanyID: "acme", Address: "hello@acme.test", Reason: "company_address:ACME"},
		store.DeliveryRecipient{UserID: "gone", Address: "gone@x.test", Reason: "direct"},
		store.DeliveryRecipient{UserID: "u1", Address: "ann.other@x.test", Reason: "direct"},
	)
	d1, d2, d3, d4 := ids[0], ids[1], ids[2], ids[3]

	t.Run("get", func(t *testing.T) {
		d := getDelivery(t, s, d2)
		if d.Reason != "company_address:ACME" || d.CompanyID != "acme" || d.State != store.DeliveryQueued || d.MessageID != "" {
			t.Errorf("DeliveryGet = %+v", d)
		}
		checkTimePtr(t, "NextAttemptAt", d.NextAttemptAt, nil)
		checkTimePtr(t, "LastAttemptAt", d.LastAttemptAt, nil)
		_, err := s.DeliveryGet(ctx, 999999)
		wantErr(t, err, store.ErrNotFound)
	})

	claim := func(owner string, now, lease time.Time, limit int) []store.ClaimedDelivery {
		t.Helper()
		cs, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{
			Owner: owner, Now: now, LeaseUntil: lease, Limit: limit, MessageIDDomain: "mail.x.test"})
		must(t, err)
		return cs
	}
	record := func(owner string, at time.Time, os ...store.DeliveryOutcome) int {
		t.Helper()
		n, err := s.DeliveryRecord(ctx, &store.DeliveryRecordParams{Owner: owner, At: at, Outcomes: os})
		must(t, err)
		return n
	}

	msgIDs := map[int64]string{}
	t.Run("claim takes queued deliveries oldest first", func(t *testing.T) {
		cs := claim("A", at(time.Minute), at(6*time.Minute), 2)
		sameIDs(t, "claimed by A", claimIDs(cs), []int64{d1, d2})
		for _, c := range cs {
			if c.State != store.DeliverySending || c.Attempts != 1 {
				t.Errorf("claimed %+v, want sending, attempt 1", c.Delivery)
			}
			if !regexp.MustCompile(fmt.Sprintf(`^[0-9a-f]{16}\.%d@mail\.x\.test$`, c.ID)).MatchString(c.MessageID) {
				t.Errorf("message id %q", c.MessageID)
			}
			msgIDs[c.ID] = c.MessageID
			checkTimePtr(t, "LastAttemptAt", c.LastAttemptAt, ptr(norm(at(time.Minute))))
			checkTime(t, "LeaseUntil", c.LeaseUntil, norm(at(6*time.Minute)))
		}
		if cs[0].Name != "Ann" || cs[0].Locale != "en" || cs[0].Reason != "group:manager" {
			t.Errorf("user delivery name %q locale %q reason %q", cs[0].Name, cs[0].Locale, cs[0].Reason)
		}
		if cs[1].Name != "ACME" || cs[1].Locale != "" {
			t.Errorf("company delivery name %q locale %q", cs[1].Name, cs[1].Locale)
		}
		if msgIDs[d1] == msgIDs[d2] {
			t.Errorf("two deliveries share message id %s", msgIDs[d1])
		}
		cs = claim("B", at(time.Minute), at(6*time.Minute), 10)
		sameIDs(t, "claimed by B", claimIDs(cs), []int64{d3, d4})
		for _, c := range cs {
			msgIDs[c.ID] = c.MessageID
		}
		if cs[0].Name != "" || cs[0].Locale != "" {
			t.Errorf("delivery to an unknown user: name %q locale %q", cs[0].Name, cs[0].Locale)
		}
		sameIDs(t, "claimed by C", claimIDs(claim("C", at(time.Minute), at(6*time.Minute), 10)), nil)
	})

	t.Run("record only what the owner holds", func(t *testing.T) {
		if n := record("B", at(2*time.Minute), store.DeliveryOutcome{ID: d1, State: store.DeliverySent, Code: 250}); n != 0 {
			t.Errorf("B recorded %d of A's deliveries", n)
		}
		next := at(3 * time.Minute)
		n := record("A", at(2*time.Minute),
			store.DeliveryOutcome{ID: d1, State: store.DeliverySent, Code: 250, Message: "2.0.0 OK"},
			store.DeliveryOutcome{ID: d2, State: store.DeliveryRetrying, Code: 451, Message: "4.3.0 try later", NextAttemptAt: &next})
		if n != 2 {
			t.Errorf("A recorded %d, want 2", n)
		}
		d := getDelivery(t, s, d1)
		if d.State != store.DeliverySent || d.LastCode != 250 || d.LastMessage != "2.0.0 OK" || d.Attempts != 1 || d.MessageID != msgIDs[d1] {
			t.Errorf("sent delivery %+v", d)
		}
		checkTimePtr(t, "SentAt", d.SentAt, ptr(norm(at(2*time.Minute))))
		checkTime(t, "UpdatedAt", d.UpdatedAt, norm(at(2*time.Minute)))
		d = getDelivery(t, s, d2)
		if d.State != store.DeliveryRetrying || d.LastCode != 451 || d.LastMessage != "4.3.0 try later" || d.SentAt != nil {
			t.Errorf("retrying delivery %+v", d)
		}
		checkTimePtr(t, "NextAttemptAt", d.NextAttemptAt, ptr(norm(next)))
		due, err := s.DeliveryNextDue(ctx, "email")
		must(t, err)
		checkTimePtr(t, "DeliveryNextDue", due, ptr(norm(next)))

		n = record("B", at(2*time.Minute),
			store.DeliveryOutcome{ID: d3, State: store.DeliveryFailed, Code: 550, Message: "5.1.1 no such user"},
			store.DeliveryOutcome{ID: d4, Release: true})
		if n != 2 {
			t.Errorf("B recorded %d, want 2", n)
		}
		if d := getDelivery(t, s, d3); d.State != store.DeliveryFailed || d.LastCode != 550 || d.Attempts != 1 {
			t.Errorf("failed delivery %+v", d)
		}
		if d := getDelivery(t, s, d4); d.State != store.DeliveryQueued || d.Attempts != 0 || d.LastCode != 0 {
			t.Errorf("released delivery %+v, want queued with no attempt", d)
		}
	})

	t.Run("retries when due, lapsed leases", func(t *testing.T) {
		cs := claim("D", at(150*time.Second), at(10*time.Minute), 10)
		sameIDs(t, "claimed before the retry is due", claimIDs(cs), []int64{d4})
		if cs[0].MessageID != msgIDs[d4] || cs[0].Attempts != 1 || cs[0].Rescued {
			t.Errorf("reclaimed %+v: message id must be kept (%s)", cs[0].Delivery, msgIDs[d4])
		}
		cs = claim("E", at(3*time.Minute), at(4*time.Minute), 10)
		sameIDs(t, "claimed when the retry is due", claimIDs(cs), []int64{d2})
		if cs[0].Attempts != 2 || cs[0].MessageID != msgIDs[d2] || cs[0].Rescued {
			t.Errorf("retry %+v", cs[0].Delivery)
		}
		if due, err := s.DeliveryNextDue(ctx, "email"); err != nil || due != nil {
			t.Errorf("DeliveryNextDue = %v, %v; want none", due, err)
		}
		// E's lease lapses at +4m; D's holds until +10m.
		cs = claim("F", at(5*time.Minute), at(11*time.Minute), 10)
		sameIDs(t, "claimed after E's lease lapsed", claimIDs(cs), []int64{d2})
		if cs[0].Attempts != 3 || !cs[0].Rescued {
			t.Errorf("rescued delivery attempts %d rescued %v, want 3, true", cs[0].Attempts, cs[0].Rescued)
		}
		if n := record("E", at(5*time.Minute), store.DeliveryOutcome{ID: d2, State: store.DeliverySent, Code: 250}); n != 0 {
			t.Errorf("E recorded %d after losing its lease", n)
		}
		if n := record("F", at(5*time.Minute), store.DeliveryOutcome{ID: d2, State: store.DeliverySent, Code: 250}); n != 1 {
			t.Errorf("F recorded %d, want 1", n)
		}
		if n := record("D", at(5*time.Minute), store.DeliveryOutcome{ID: d4, State: store.DeliveryFailed, Code: 552, Message: "too big"}); n != 1 {
			t.Errorf("D recorded %d, want 1", n)
		}
	})

	t.Run("retry", func(t *testing.T) {
		other := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
		o := queueDeliveries(t, s, other.ID, store.DeliveryRecipient{UserID: "u1", Address: "ann@x.test"})[0]
		sameIDs(t, "claimed", claimIDs(claim("G", at(6*time.Minute), at(7*time.Minute), 10)), []int64{o})
		record("G", at(6*time.Minute), store.DeliveryOutcome{ID: o, State: store.DeliveryFailed, Code: 550})

		_, err := s.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: d1, At: at(8 * time.Minute)})
		wantErr(t, err, store.ErrConflict)
		_, err = s.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: 999999, At: at(8 * time.Minute)})
		wantErr(t, err, store.ErrNotFound)

		n, err := s.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: d3, At: at(8 * time.Minute)})
		must(t, err)
		if n != 1 {
			t.Errorf("DeliveryRetry(d3) = %d, want 1", n)
		}
		d := getDelivery(t, s, d3)
		if d.State != store.DeliveryQueued || d.Attempts != 0 || d.LastCode != 550 || d.NextAttemptAt != nil {
			t.Errorf("retried delivery %+v: want queued, no attempt, the last reason kept", d)
		}
		checkTime(t, "UpdatedAt", d.UpdatedAt, norm(at(8*time.Minute)))
		_, err = s.DeliveryRetry(ctx, &store.DeliveryRetryParams{ID: d3, At: at(8 * time.Minute)})
		wantErr(t, err, store.ErrConflict)

		n, err = s.DeliveryRetry(ctx, &store.DeliveryRetryParams{EventID: other.ID, At: at(9 * time.Minute)})
		must(t, err)
		if n != 1 || getDelivery(t, s, o).State != store.DeliveryQueued || getDelivery(t, s, d4).State != store.DeliveryFailed {
			t.Errorf("retry of event %d's failed deliveries = %d", other.ID, n)
		}
		record("G", at(9*time.Minute)) // nothing: a no-op
		n, err = s.DeliveryRetry(ctx, &store.DeliveryRetryParams{At: at(9 * time.Minute)})
		must(t, err)
		if n != 1 || getDelivery(t, s, d4).State != store.DeliveryQueued {
			t.Errorf("retry of every failed delivery = %d, want 1 (d4)", n)
		}
		sameIDs(t, "claimed after retry", claimIDs(claim("H", at(10*time.Minute), at(11*time.Minute), 10)), []int64{d3, d4, o})
	})
}

// Concurrent claims never take one delivery twice.
func testDeliveryClaimConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	const total = 300
	rs := make([]store.DeliveryRecipient, total)
	for i := range rs {
		rs[i] = store.DeliveryRecipient{UserID: fmt.Sprint("u", i), Address: fmt.Sprintf("u%d@x.test", i)}
	}
	queueDeliveries(t, s, ev.ID, rs...)
	var (
		mu    sync.Mutex
		seen  = map[int64]string{}
		dupes []int64
		wg    sync.WaitGroup
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("worker", w)
			for {
				cs, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{Owner: owner, Now: at(time.Minute),
					LeaseUntil: at(time.Hour), Limit: 7, MessageIDDomain: "x.test"})
				if err != nil {
					t.Error(err)
					return
				}
				if len(cs) == 0 {
					return
				}
				mu.Lock()
				for _, c := range cs {
					if _, ok := seen[c.ID]; ok {
						dupes = append(dupes, c.ID)
					}
					seen[c.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(dupes) > 0 || len(seen) != total {
		t.Errorf("claimed %d distinct deliveries of %d; claimed twice: %v", len(seen), total, dupes)
	}
}

func testAttachments(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := newEvent(t, s, nil)
	pdf := bytes.Repeat([]byte{0, 1, 2, 0xff, '%'}, 1000)
	atts := []store.Attachment{
		{Name: "facture 42.pdf", ContentType: "application/pdf", Data: pdf},
		{Name: "vide.txt", ContentType: "text/plain", Data: nil},
	}
	must(t, s.AttachmentInsertMany(ctx, ev.ID, atts))
	got, err := s.AttachmentList(ctx, ev.ID)
	must(t, err)
	if len(got) != 2 || got[0].Name != "facture 42.pdf" || got[0].ContentType != "application/pdf" ||
		!bytes.Equal(got[0].Data, pdf) || got[1].Name != "vide.txt" || got[1].Data == nil || len(got[1].Data) != 0 {
		t.Errorf("AttachmentList = %+v", got)
	}
	other := newEvent(t, s, nil)
	if got, err := s.AttachmentList(ctx, other.ID); err != nil || len(got) != 0 {
		t.Errorf("AttachmentList of an event without = %v, %v", got, err)
	}
	wantFieldError(t, s.AttachmentInsertMany(ctx, 999999, atts[:1]), "event_id")

	// In a transaction that rolls back, nothing is kept.
	err = s.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		must(t, tx.AttachmentInsertMany(ctx, other.ID, atts))
		if got, err := tx.AttachmentList(ctx, other.ID); err != nil || len(got) != 2 {
			t.Errorf("AttachmentList in tx = %d, %v", len(got), err)
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	if got, err := s.AttachmentList(ctx, other.ID); err != nil || len(got) != 0 {
		t.Errorf("AttachmentList after rollback = %v, %v", got, err)
	}
}

// Leases: a live claim is renewed and never taken; the next lapse of
// another owner's claim is known; a renewal never revives a claim that
// was recorded or taken over.
func testDeliveryLeases(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := newEvent(t, s, func(e *store.Event) { e.Key = "task:status:valid" })
	rs := make([]store.DeliveryRecipient, 4)
	for i := range rs {
		rs[i] = store.DeliveryRecipient{UserID: fmt.Sprint("u", i), Address: fmt.Sprintf("u%d@x.test", i)}
	}
	ids := queueDeliveries(t, s, ev.ID, rs...)
	claim := func(owner string, now, lease time.Time, limit int) []store.ClaimedDelivery {
		t.Helper()
		cs, err := s.DeliveryClaim(ctx, &store.DeliveryClaimParams{
			Owner: owner, Now: now, LeaseUntil: lease, Limit: limit, MessageIDDomain: "x.test"})
		must(t, err)
		return cs
	}
	renew := func(until time.Time, owners ...string) int {
		t.Helper()
		n, err := s.DeliveryRenew(ctx, &store.DeliveryRenewParams{Owners: owners, LeaseUntil: until})
		must(t, err)
		return n
	}
	nextLapse := func(want *time.Time, exclude ...string) {
		t.Helper()
		got, err := s.DeliveryNextLapse(ctx, "email", exclude)
		must(t, err)
		checkTimePtr(t, fmt.Sprintf("DeliveryNextLapse(%v)", exclude), got, want)
	}

	nextLapse(nil)
	a := claim("A", at(0), at(time.Minute), 2)
	b := claim("B", at(0), at(2*time.Minute), 2)
	sameIDs(t, "A", claimIDs(a), ids[:2])
	sameIDs(t, "B", claimIDs(b), ids[2:])
	nextLapse(ptr(norm(at(time.Minute))))
	nextLapse(ptr(norm(at(time.Minute))), "B")
	nextLapse(ptr(norm(at(2*time.Minute))), "A")
	nextLapse(nil, "A", "B")

	if n := renew(at(5*time.Minute), "A", "nobody"); n != 2 {
		t.Errorf("renewed %d of A's, want 2", n)
	}
	if n := renew(at(time.Hour)); n != 0 {
		t.Errorf("renewed %d with no owner", n)
	}
	if d := getDelivery(t, s, ids[0]); d.State != store.DeliverySending || d.Attempts != 1 {
		t.Errorf("renewed delivery %+v: still sending, one attempt", d)
	}
	nextLapse(ptr(norm(at(2 * time.Minute))))
	nextLapse(ptr(norm(at(5*time.Minute))), "B")

	// At +3m, B's lease has lapsed and A's, renewed, holds.
	c := claim("C", at(3*time.Minute), at(4*time.Minute), 10)
	sameIDs(t, "C after B's lease lapsed", claimIDs(c), ids[2:])
	for _, d := range c {
		if !d.Rescued || d.Attempts != 2 {
			t.Errorf("taken from B: %+v rescued %v, want rescued, attempt 2", d.Delivery, d.Rescued)
		}
	}
	if n := renew(at(time.Hour), "B"); n != 0 {
		t.Errorf("B renewed %d deliveries C took", n)
	}
	nextLapse(ptr(norm(at(4*time.Minute))), "A")

	n, err := s.DeliveryRecord(ctx, &store.DeliveryRecordParams{Owner: "A", At: at(3 * time.Minute),
		Outcomes: []store.DeliveryOutcome{{ID: ids[0], State: store.DeliverySent, Code: 250}, {ID: ids[1], Release: true}}})
	must(t, err)
	if n != 2 {
		t.Fatalf("A recorded %d, want 2", n)
	}
	if n := renew(at(time.Hour), "A"); n != 0 {
		t.Errorf("A renewed %d recorded deliveries", n)
	}
	if d := getDelivery(t, s, ids[1]); d.State != store.DeliveryQueued {
		t.Errorf("released delivery %+v after a renewal", d)
	}
	nextLapse(ptr(norm(at(4 * time.Minute))))
	nextLapse(nil, "C")
}

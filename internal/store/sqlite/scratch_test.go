package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/testdb"
)

func TestScratchClaimSpeed(t *testing.T) {
	s, err := sqlite.Open(t.Context(), testdb.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	ev := &store.Event{Key: "task:status:valid", Title: "x", Status: store.EventPending, Channel: "email"}
	if err := s.EventInsert(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	rs := make([]store.DeliveryRecipient, 20000)
	for i := range rs {
		rs[i] = store.DeliveryRecipient{UserID: fmt.Sprint("u", i), Address: fmt.Sprintf("u%d@x", i), Reason: "group:all"}
	}
	if _, err := s.DeliveryInsertMany(t.Context(), &store.DeliveryInsertManyParams{EventID: ev.ID, Recipients: rs, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 5; k++ {
		t0 := time.Now()
		cs, err := s.DeliveryClaim(t.Context(), &store.DeliveryClaimParams{Owner: "a", Now: time.Now(), LeaseUntil: time.Now().Add(time.Minute), Limit: 500, MessageIDDomain: "x"})
		if err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		os := make([]store.DeliveryOutcome, len(cs))
		for i, c := range cs {
			os[i] = store.DeliveryOutcome{ID: c.ID, State: store.DeliverySent, Code: 250, Message: "2.0.0 OK"}
		}
		n, err := s.DeliveryRecord(t.Context(), &store.DeliveryRecordParams{Owner: "a", At: time.Now(), Outcomes: os})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("claim %d in %s, record %d in %s", len(cs), t1.Sub(t0), n, time.Since(t1))
	}
}

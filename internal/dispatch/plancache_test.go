package dispatch

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// countingQueries is a store's UserContacts that counts its reads.
type countingQueries struct {
	store.Queries
	known map[string]store.Contact
	reads int
}

func (c *countingQueries) UserContacts(_ context.Context, ids []string) ([]store.Contact, error) {
	c.reads++
	var out []store.Contact
	for _, id := range ids {
		if k, ok := c.known[id]; ok {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b store.Contact) int { return strings.Compare(a.UserID, b.UserID) }) // as the stores do
	return out, nil
}

func TestPlannerRemembersFoundUsersOnly(t *testing.T) {
	ctx := context.Background()
	db := &countingQueries{known: map[string]store.Contact{
		"1": {UserID: "1", Active: true}, "2": {UserID: "2", Email: "b@example.org", Active: true},
	}}
	var cache contactCache
	q := plannerQueries{Queries: db, contacts: &cache}
	for _, tc := range []struct {
		ids       []string
		wantIDs   []string
		wantReads int // total so far
	}{
		{[]string{"2", "1"}, []string{"1", "2"}, 1},
		{[]string{"1", "2"}, []string{"1", "2"}, 1}, // both remembered
		{[]string{"2", "2"}, []string{"2"}, 1},      // repeated ids, once
		{[]string{"1", "9"}, []string{"1"}, 2},      // an unknown one: read again
		{[]string{"1", "9"}, []string{"1"}, 3},      // and again: not remembered
	} {
		got, err := q.UserContacts(ctx, tc.ids)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.UserID)
		}
		if len(ids) != len(tc.wantIDs) || (len(ids) > 0 && ids[0] != tc.wantIDs[0]) || ids[len(ids)-1] != tc.wantIDs[len(tc.wantIDs)-1] {
			t.Errorf("UserContacts(%v) = %v, want %v", tc.ids, ids, tc.wantIDs)
		}
		if db.reads != tc.wantReads {
			t.Errorf("after UserContacts(%v): %d reads, want %d", tc.ids, db.reads, tc.wantReads)
		}
	}
	cache.clear()
	if _, err := q.UserContacts(ctx, []string{"1"}); err != nil || db.reads != 4 {
		t.Errorf("after clear: %d reads, want 4 (%v)", db.reads, err)
	}
}

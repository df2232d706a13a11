package dispatch

import (
	"context"
	"slices"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// holdersAmong is up to how many recipients the holders are looked up
// among them (by person) rather than among everybody (by category).
const holdersAmong = 1000

// holdForDigests holds the e-mail of the recipients whose digest
// frequency for the event's category is not immediate (README,
// "Preferences"): they get a digest item instead of a delivery, and the
// others are returned. A forced channel and a mandatory type ignore
// digests. The schedules are read first (few rows); only when somebody
// holds this category is the type read.
func holdForDigests(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time, emails []store.DeliveryRecipient) ([]store.DeliveryRecipient, error) {
	if ev.ForceChannel != "" || len(emails) == 0 {
		return emails, nil
	}
	cat := store.Category(ev.Key)
	var among []string // nil: all holders of the category
	if len(emails) <= holdersAmong {
		among = make([]string, 0, len(emails))
		for _, e := range emails {
			if e.UserID != "" {
				among = append(among, e.UserID)
			}
		}
	}
	holders, err := tx.DigestHolders(ctx, cat, among)
	if err != nil || len(holders) == 0 {
		return emails, err
	}
	t, err := tx.TypeGet(ctx, ev.Key)
	if err != nil {
		return nil, err
	}
	if t.Mandatory {
		return emails, nil
	}
	var held []store.DigestHold
	emails = slices.DeleteFunc(emails, func(e store.DeliveryRecipient) bool {
		s, ok := holders[e.UserID]
		if ok && e.UserID != "" {
			held = append(held, store.DigestHold{UserID: e.UserID, Schedule: s, Reason: e.Reason})
		}
		return ok && e.UserID != ""
	})
	_, err = tx.DigestItemInsertMany(ctx, &store.DigestItemInsertParams{EventID: ev.ID, Category: cat, Items: held, CreatedAt: now})
	return emails, err
}

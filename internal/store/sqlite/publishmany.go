package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cloche/cloche/internal/store"
)

// EventPublishMany publishes the events of p still pending, each with
// its own fan-out and finish statements: SQLite's writes go one
// transaction at a time, so an event read pending here stays so until
// the transaction ends, and its statements cost no round trip.
func (q *queries) EventPublishMany(ctx context.Context, p *store.EventPublishManyParams) (map[int64]int, error) {
	if err := store.CheckPublishMany(p); err != nil {
		return nil, fmt.Errorf("sqlite: event publish: %w", err)
	}
	out := map[int64]int{}
	err := q.atomic(ctx, func(q *queries) error {
		for i := range p.Events {
			e := &p.Events[i]
			var status string
			err := q.w.QueryRowContext(ctx, `SELECT status FROM events WHERE id = ?`, e.EventID).Scan(&status)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && status != string(store.EventPending)) {
				continue
			}
			if err != nil {
				return mapErr("event publish", err)
			}
			counts, err := q.NotificationFanOutChannels(ctx, &store.NotificationFanOutParams{
				EventID: e.EventID, Channel: e.Channel, GroupNames: e.GroupNames, UserIDs: e.UserIDs,
				CompanyID: e.CompanyID, CreatedAt: p.At, ExpiresAt: e.ExpiresAt,
			})
			if err != nil {
				return err
			}
			n := counts[e.Channel]
			if err := q.EventFinish(ctx, &store.EventFinishParams{ID: e.EventID, Status: store.EventPublished, Reason: e.Reason,
				Channel: e.Channel, Counts: map[store.Channel]int{e.Channel: n}, Report: e.Report, At: p.At}); err != nil {
				return err
			}
			out[e.EventID] = n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EventFinishMany finishes the events of ps still pending, one statement
// each, and returns their ids.
func (q *queries) EventFinishMany(ctx context.Context, ps []store.EventFinishParams) ([]int64, error) {
	if err := store.CheckFinishMany(ps); err != nil {
		return nil, fmt.Errorf("sqlite: event finish: %w", err)
	}
	var done []int64
	err := q.atomic(ctx, func(q *queries) error {
		for i := range ps {
			err := q.EventFinish(ctx, &ps[i])
			switch {
			case err == nil:
				done = append(done, ps[i].ID)
			case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrNotFound):
			default:
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return done, nil
}

package cloche

import (
	"context"
	"fmt"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// MonitorStats are figures for monitoring: deliveries per state and the
// oldest overdue event.
type MonitorStats = store.MonitorStats

// Ready reports whether the service can serve: its database answers and
// has every migration this version knows. Its errors match ErrUnavailable.
func (s *Service) Ready(ctx context.Context) error {
	if err := s.store.Ping(ctx); err != nil {
		return wrap("ready", err)
	}
	m, ok := s.store.(interface {
		MigrationsPending(ctx context.Context) (bool, error)
	})
	if !ok {
		return nil
	}
	pending, err := m.MigrationsPending(ctx)
	if err != nil {
		return fmt.Errorf("ready: migrations: %w: %w", ErrUnavailable, err)
	}
	if pending {
		return fmt.Errorf("ready: migrations are pending (run `cloche migrate`): %w", ErrUnavailable)
	}
	return nil
}

// MonitorStats computes monitoring figures: deliveries per state, and the
// oldest scheduled event that is due but not yet published.
func (s *Service) MonitorStats(ctx context.Context) (*MonitorStats, error) {
	st, err := s.store.MonitorStats(ctx, s.disp.Now())
	return st, wrap("stats", err)
}

// ObservePublished registers fn to run after each event is published: at
// once by Notify, or when due by the workers. fn must return quickly.
func (s *Service) ObservePublished(fn func(ctx context.Context, ev *Event)) {
	s.disp.Observe(fn)
}

// Now is the service's clock (WithClock).
func (s *Service) Now() time.Time { return s.disp.Now() }

// DeliveryStates counts an event's e-mail deliveries per state.
func (s *Service) DeliveryStates(ctx context.Context, eventID int64) (map[DeliveryState]int, error) {
	m, err := s.store.DeliveryStates(ctx, eventID)
	return m, wrap(fmt.Sprintf("event %d: deliveries", eventID), err)
}

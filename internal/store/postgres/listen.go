package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloche/cloche/internal/store"
)

var _ store.FeedListener = (*Store)(nil)

// listenPing is how long the listening connection may stay silent before
// it is checked with a round trip, so that a connection dropped without a
// word (a network failure) is noticed and replaced.
const listenPing = 30 * time.Second

// ListenApplicationName names the listening connection in pg_stat_activity.
const ListenApplicationName = "cloche realtime"

// ListenFeed implements store.FeedListener: LISTEN on a connection of its
// own (outside the pool), then a call of fn for each signal until ctx ends
// or the connection fails.
func (s *Store) ListenFeed(ctx context.Context, ready func(), fn func(store.FeedSignal)) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: listen: %w", mapErr(err, ""))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.feed}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: listen: %w", mapErr(err, ""))
	}
	ready()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silence: a timeout leaves the connection usable; check it.
			if err := conn.Ping(ctx); err != nil {
				return fmt.Errorf("postgres: listen: %w", mapErr(err, ""))
			}
			continue
		case err != nil:
			return fmt.Errorf("postgres: listen: %w", mapErr(err, ""))
		}
		sigs, ok := parseSignal(n.Payload)
		if !ok {
			s.logger.WarnContext(ctx, "postgres: listen: unknown feed signal", "payload", n.Payload)
			continue
		}
		for _, sig := range sigs {
			fn(sig)
		}
	}
}

// FeedChannel is the NOTIFY channel the store's writers signal on.
func (s *Store) FeedChannel() string { return s.feed }

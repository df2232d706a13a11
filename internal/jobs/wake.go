package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// On SQLite, River has no LISTEN: its listener reads a table of
// notifications every 50 milliseconds, and its workers look for jobs every
// poll interval, which cost an idle process more than all the rest. The
// driver here wraps River's so that its listener reads that table once
// every listenPoll (for what other processes wrote: rare on one SQLite
// file), and tells the workers of a queue at once, from memory, when this
// process committed a transaction that inserted a job there or made one
// available (kick): this process's jobs start as soon as before, and the
// workers' own polling is only a backstop (fetchPoll).
const (
	listenPoll = time.Second
	fetchPoll  = 5 * time.Second
	// listenOnce bounds one read of the inner listener: it reads at once,
	// then waits 50 milliseconds before reading again.
	listenOnce = 25 * time.Millisecond
)

// sqliteDriver is River's SQLite driver with a listener that sleeps.
type sqliteDriver struct {
	*riversqlite.Driver
	kicks *kicks
}

func newSQLiteDriver(d *riversqlite.Driver) *sqliteDriver {
	return &sqliteDriver{Driver: d, kicks: &kicks{wake: make(chan struct{}, 1)}}
}

func (d *sqliteDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &sleepyListener{Listener: d.Driver.GetListener(params), kicks: d.kicks}
}

// kicks are the queues whose workers should look for jobs at once.
type kicks struct {
	mu     sync.Mutex
	queues []string
	wake   chan struct{}
}

// kick has the workers of queue look for jobs.
func (k *kicks) kick(queue string) {
	k.mu.Lock()
	if !slices.Contains(k.queues, queue) {
		k.queues = append(k.queues, queue)
	}
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// next takes a queue kicked, if any.
func (k *kicks) next() (string, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.queues) == 0 {
		return "", false
	}
	q := k.queues[0]
	k.queues = k.queues[1:]
	return q, true
}

// sleepyListener hands out kicks as River's insert notifications, and
// reads the notifications of other processes every listenPoll.
type sleepyListener struct {
	riverdriver.Listener
	kicks *kicks
	// more: the last read found a notification; there may be others
	// read with it.
	more bool
}

func (l *sleepyListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	timer := time.NewTimer(listenPoll)
	defer timer.Stop()
	for {
		if q, ok := l.kicks.next(); ok {
			return &riverdriver.Notification{Topic: "river_insert", Payload: fmt.Sprintf(`{"queue": %q}`, q)}, nil
		}
		if !l.more {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-l.kicks.wake:
				continue
			case <-timer.C:
				timer.Reset(listenPoll)
			}
		}
		once, cancel := context.WithTimeout(ctx, listenOnce)
		n, err := l.Listener.WaitForNotification(once)
		cancel()
		switch {
		case err == nil:
			l.more = true
			return n, nil
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			l.more = false
		default:
			return nil, err
		}
	}
}

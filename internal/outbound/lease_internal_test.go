package outbound

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// renewStore answers DeliveryRenew as told, after an optional delay.
type renewStore struct {
	store.Store
	err   error
	delay time.Duration
	calls atomic.Int32
}

func (s *renewStore) DeliveryRenew(ctx context.Context, p *store.DeliveryRenewParams) (int, error) {
	s.calls.Add(1)
	time.Sleep(s.delay)
	return len(p.Owners), s.err
}

// What a claim's sender believes of its lease: a renewal moves it on; a
// failed renewal, or one that ends after the lease may have lapsed, does
// not; no message is started once less than half a lease is known to be
// left.
func TestClaimRenewal(t *testing.T) {
	const lease = time.Hour
	cases := []struct {
		name  string
		left  time.Duration // of the claim's lease when the renewal starts
		err   error
		delay time.Duration
		moved bool // the lease is now a lease from the renewal
	}{
		{name: "renewed", left: lease / 2, moved: true},
		{name: "renewal failed", left: lease / 2, err: errors.New("database down")},
		{name: "renewed after the lease lapsed", left: 20 * time.Millisecond, delay: 100 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := &renewStore{err: tc.err, delay: tc.delay}
			m := &Runner{ch: stubChannel{}, st: st, cfg: Config{Lease: lease}, logger: slog.New(slog.DiscardHandler), now: time.Now,
				leases: leases{held: map[string]claim{}}}
			c := claim{owner: "a", held: new(atomic.Int64)}
			before := time.Now().Add(tc.left).UnixNano()
			c.held.Store(before)
			m.leases.held[c.owner] = c
			start := time.Now()
			m.renew(time.Minute)
			if st.calls.Load() != 1 {
				t.Fatalf("%d renewals", st.calls.Load())
			}
			switch got := c.held.Load(); {
			case tc.moved && got < start.Add(lease).UnixNano():
				t.Errorf("held until %s, want a lease from the renewal", time.Unix(0, got))
			case !tc.moved && got != before:
				t.Errorf("held until %s, want unchanged", time.Unix(0, got))
			}
			if want := tc.moved; c.mayStart(time.Now(), lease) != want {
				t.Errorf("mayStart = %v, want %v", !want, want)
			}
		})
	}
	m := &Runner{ch: stubChannel{}, st: &renewStore{}, cfg: Config{Lease: lease}, now: time.Now, leases: leases{held: map[string]claim{}}}
	m.renew(time.Minute) // nothing held: no statement
	young := claim{owner: "young", held: new(atomic.Int64)}
	young.held.Store(time.Now().Add(lease - lease/16).UnixNano())
	m.leases.held[young.owner] = young
	m.renew(time.Minute) // younger than an eighth of the lease: not yet
	if n := m.st.(*renewStore).calls.Load(); n != 0 {
		t.Errorf("%d renewals with no claim to renew", n)
	}
}

// stubChannel names a channel and sends nothing.
type stubChannel struct{}

func (stubChannel) Name() string              { return "stub" }
func (stubChannel) Ready() bool               { return false }
func (stubChannel) Begin(context.Context) Job { return nil }

// A claim's lease is written on the service's clock, and other claims
// take its deliveries once that clock passes it: its sender judges it on
// the same clock, whatever time passed on this machine's own (a process
// that stalled between reading the time and claiming, a clock moved on).
func TestMayStartOnTheServiceClock(t *testing.T) {
	const lease = time.Minute
	base := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		after time.Duration // on the service's clock, since the claim
		want  bool
	}{
		{"just claimed", 0, true},
		{"less than half the lease gone", lease/2 - time.Second, true},
		{"half the lease gone", lease / 2, false},
		{"the lease lapsed", 2 * lease, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := claim{owner: "a", held: new(atomic.Int64)}
			c.held.Store(base.Add(lease).UnixNano()) // as Runner.claim writes it
			if got := c.mayStart(base.Add(tc.after), lease); got != tc.want {
				t.Errorf("mayStart %s after the claim = %v, want %v", tc.after, got, tc.want)
			}
		})
	}
}

package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/testdb"
)

// hookOutlet is the webhook outlet target recordHook writes.
const hookOutlet = "1"

// recordHook queues one webhook delivery per publication in the
// publication's transaction, as the webhooks do, so that a test can count
// the publications that committed; it fails for the events of fail.
type recordHook struct {
	mu   sync.Mutex
	fail map[int64]bool
}

func (h *recordHook) PublishedTx(ctx context.Context, tx store.Tx, ev *store.Event, now time.Time) error {
	h.mu.Lock()
	fail := h.fail[ev.ID]
	h.mu.Unlock()
	if fail {
		return fmt.Errorf("hook refuses event %d", ev.ID)
	}
	_, err := tx.DeliveryInsertMany(ctx, &store.DeliveryInsertManyParams{EventID: ev.ID, Channel: store.OutboundWebhook,
		Recipients: []store.DeliveryRecipient{{Target: hookOutlet, Reason: "outlet:test"}}, CreatedAt: now})
	return err
}

// users are the people of seedDirectory.
var users = []string{"u1", "u2", "u3", "u4", "u5", "u6"}

// seedDirectory writes a small directory: groups g1 (u1, u2, u4 who is
// inactive) and staff (u6), company c1 (u1, u5), u5 followed by u3, and a
// type pref:reminder that u2 turned off in the app.
func seedDirectory(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CompanyUpsert(ctx, &store.Company{ID: "c1", Name: "C1", Active: true, Email: "c1@example.org"}); err != nil {
			return err
		}
		for _, u := range []store.User{
			{ID: "u1", Email: "u1@example.org", Active: true, Groups: []string{"g1"}, Companies: []string{"c1"}},
			{ID: "u2", Email: "u2@example.org", Active: true, Groups: []string{"g1"}},
			{ID: "u3", Active: true},
			{ID: "u4", Active: false, Groups: []string{"g1"}},
			{ID: "u5", Active: true, Companies: []string{"c1"}, FollowerID: "u3"},
			{ID: "u6", Active: true, Groups: []string{"staff"}},
		} {
			if err := tx.UserUpsert(ctx, &u); err != nil {
				return err
			}
		}
		if err := tx.TypeUpsert(ctx, &store.NotificationType{Key: "pref:reminder", Label: "Reminder", DefaultChannel: store.ChannelMessage, StatusType: "neutral"}); err != nil {
			return err
		}
		return tx.PreferenceReplace(ctx, "u2", []store.Preference{{Kind: store.ScopeType, Scope: "pref:reminder", Channel: store.ChannelMessage, Enabled: false}})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// spec is an event to publish; path says which way publishClaimed takes
// it: "set", "one" (one by one), "expired" or "done" (no longer pending).
type spec struct {
	name  string
	key   string
	r     store.Recipients
	force store.Channel
	path  string
}

var specs = []spec{
	{"one user", "message:internal", store.Recipients{UserIDs: []string{"u1"}}, "", "set"},
	{"group, users, unknown, inactive", "message:internal", store.Recipients{GroupNames: []string{"g1"}, UserIDs: []string{"u3", "zz", "u4"}}, "", "set"},
	{"company", "message:internal", store.Recipients{CompanyID: "c1"}, "", "set"},
	{"unknown group and company", "message:internal", store.Recipients{GroupNames: []string{"nogroup"}, CompanyID: "noco"}, "", "set"},
	{"follower", "message:internal", store.Recipients{FollowerUserID: "u5"}, "", "set"},
	{"follower fallback", "message:internal", store.Recipients{FollowerUserID: "ghost"}, "", "set"},
	{"alert type", "message:system", store.Recipients{UserIDs: []string{"u1", "u2"}}, "", "set"},
	{"forced alert", "message:internal", store.Recipients{GroupNames: []string{"g1"}}, store.ChannelAlert, "set"},
	{"e-mail", "expense:status:valid", store.Recipients{UserIDs: []string{"u1", "u3"}}, "", "one"},
	{"e-mail forced, company address", "message:internal", store.Recipients{CompanyID: "c1"}, store.ChannelEmail, "one"},
	{"preference off", "pref:reminder", store.Recipients{GroupNames: []string{"g1"}}, "", "one"},
	{"account type", "message:internal", store.Recipients{AccountType: store.AccountTypeAll}, "", "one"},
	{"push", "message:internal", store.Recipients{UserIDs: []string{"u1"}}, store.ChannelPush, "one"},
	{"expired", "message:internal", store.Recipients{UserIDs: []string{"u1"}}, "", "expired"},
	{"cancelled", "message:internal", store.Recipients{UserIDs: []string{"u1"}}, "", "done"},
}

// insertSpecs writes the events of specs, due a minute ago, and returns
// their ids in the same order.
func insertSpecs(t *testing.T, st store.Store, specs []spec) []int64 {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	due := now.Add(-time.Minute)
	ids := make([]int64, len(specs))
	for i, s := range specs {
		ev := &store.Event{Key: s.key, Title: s.name, Recipients: s.r, ForceChannel: s.force, Status: store.EventPending,
			DueAt: &due, CreatedAt: now.Add(-time.Hour)}
		if s.path == "expired" {
			until := now.Add(-time.Second)
			ev.Until = &until
		} else {
			until := now.Add(time.Hour)
			ev.Until = &until
		}
		if err := st.EventInsert(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if s.path == "done" {
			if err := st.EventFinish(ctx, &store.EventFinishParams{ID: ev.ID, Status: store.EventCancelled, At: now}); err != nil {
				t.Fatal(err)
			}
		}
		ids[i] = ev.ID
	}
	return ids
}

// outcome is what an event's publication left: the event, and per user
// the channels of its notifications; hooks counts its webhook deliveries.
type outcome struct {
	status  store.EventStatus
	reason  string
	channel store.Channel
	counts  map[store.Channel]int
	report  *store.SendReport
	reached map[string][]store.Channel
	hooks   int
}

func outcomeOf(t *testing.T, st store.Store, id int64) outcome {
	t.Helper()
	ctx := t.Context()
	ev, err := st.EventGet(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{status: ev.Status, reason: ev.StatusReason, channel: ev.Channel, counts: ev.Counts, report: ev.Report, reached: map[string][]store.Channel{}}
	if ev.Status == store.EventPublished && ev.PublishedAt == nil {
		t.Errorf("event %d published without a time", id)
	}
	for _, u := range users {
		items, err := st.NotificationList(ctx, &store.NotificationListParams{UserID: u, Now: time.Now().Add(time.Minute), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.EventID == id {
				o.reached[u] = append(o.reached[u], it.Channel)
			}
		}
		slices.Sort(o.reached[u])
	}
	ds, err := st.DeliveryList(ctx, &store.DeliveryListParams{Channel: store.OutboundWebhook, EventID: id, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	o.hooks = len(ds)
	return o
}

// The set path publishes a batch as publishing each event on its own
// does: same status, reason, channel, counts, report, people reached on
// the same channels, hooks run once; the events it cannot take (e-mail,
// preferences, account types, push) go their own way in the same batch;
// expired ones are expired, those no longer pending left alone.
func TestPublishSetMatchesOneByOne(t *testing.T) {
	for _, be := range testdb.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := openStore(t, be)
			seedDirectory(t, st)
			d := New(st, Config{FallbackGroups: []string{"staff"}}, slog.New(slog.DiscardHandler))
			d.AddPublishHook(&recordHook{})

			// Which way each goes.
			batch := insertSpecs(t, st, specs)
			err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
				btx := newBatchTx(tx)
				if err := btx.preload(ctx, batch); err != nil {
					return err
				}
				set := &setBatch{}
				for i, id := range batch {
					ev, err := d.publishOrSetTx(ctx, btx, id, set)
					inSet := slices.ContainsFunc(set.events, func(s setEvent) bool { return s.ev.ID == id }) ||
						slices.ContainsFunc(set.expired, func(f store.EventFinishParams) bool { return f.ID == id })
					var got string
					switch {
					case errors.Is(err, errAlreadyDone):
						got = "done"
					case err != nil:
						return err
					case ev != nil:
						got = "one"
					case inSet && specs[i].path == "expired":
						got = "expired"
					case inSet:
						got = "set"
					}
					if got != specs[i].path {
						t.Errorf("%s: took the path %q, want %q", specs[i].name, got, specs[i].path)
					}
				}
				return errors.New("roll back")
			})
			if err == nil || err.Error() != "roll back" {
				t.Fatal(err)
			}

			// Published together, then each on its own.
			done, err := d.publishClaimed(ctx, slices.Clone(batch))
			if err != nil {
				t.Fatal(err)
			}
			if len(done) != len(batch) {
				t.Errorf("published or finished %d, want %d", len(done), len(batch))
			}
			alone := insertSpecs(t, st, specs)
			for _, id := range alone {
				err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
					_, err := d.publishOneTx(ctx, tx, id)
					if errors.Is(err, errAlreadyDone) {
						return nil
					}
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			for i, s := range specs {
				got, want := outcomeOf(t, st, batch[i]), outcomeOf(t, st, alone[i])
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: in a batch\n%+v\nalone\n%+v", s.name, got, want)
				}
				wantStatus, wantHooks := store.EventPublished, 1
				switch s.path {
				case "expired":
					wantStatus, wantHooks = store.EventExpired, 0
				case "done":
					wantStatus, wantHooks = store.EventCancelled, 0
				}
				if got.status != wantStatus || got.hooks != wantHooks {
					t.Errorf("%s: %s with %d hook deliveries, want %s with %d", s.name, got.status, got.hooks, wantStatus, wantHooks)
				}
			}
			// A few outcomes spelled out.
			check := func(name string, want map[string][]store.Channel) {
				t.Helper()
				i := slices.IndexFunc(specs, func(s spec) bool { return s.name == name })
				if got := outcomeOf(t, st, batch[i]).reached; !maps.EqualFunc(got, want, slices.Equal) {
					t.Errorf("%s reached %v, want %v", name, got, want)
				}
			}
			m := []store.Channel{store.ChannelMessage}
			check("group, users, unknown, inactive", map[string][]store.Channel{"u1": m, "u2": m, "u3": m})
			check("company", map[string][]store.Channel{"u1": m, "u5": m})
			check("follower", map[string][]store.Channel{"u3": m})
			check("follower fallback", map[string][]store.Channel{"u6": m})
			check("forced alert", map[string][]store.Channel{"u1": {store.ChannelAlert}, "u2": {store.ChannelAlert}})
			check("preference off", map[string][]store.Channel{"u1": m})
			i := slices.IndexFunc(specs, func(s spec) bool { return s.name == "group, users, unknown, inactive" })
			rep := outcomeOf(t, st, batch[i]).report
			if rep == nil || !slices.Equal(rep.UnknownUserIDs, []string{"zz"}) || len(rep.Unreachable) != 1 || rep.Unreachable[0].ID != "u4" {
				t.Errorf("report %+v, want zz unknown and u4 inactive", rep)
			}
		})
	}
}

// An event that fails in a batch fails alone, whichever way it was to
// go: the others are published once, it stays pending (its claim will
// lapse) with nothing written for it.
func TestPublishSetOneFails(t *testing.T) {
	for _, be := range testdb.Backends() {
		for _, failing := range []string{"one user", "e-mail"} {
			t.Run(be.Name+"/"+failing, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				st := openStore(t, be)
				seedDirectory(t, st)
				hook := &recordHook{fail: map[int64]bool{}}
				d := New(st, Config{FallbackGroups: []string{"staff"}}, slog.New(slog.DiscardHandler))
				d.AddPublishHook(hook)
				batch := insertSpecs(t, st, specs)
				bad := batch[slices.IndexFunc(specs, func(s spec) bool { return s.name == failing })]
				hook.fail[bad] = true
				done, err := d.publishClaimed(ctx, slices.Clone(batch))
				if err != nil {
					t.Fatal(err)
				}
				if slices.Contains(done, bad) || len(done) != len(batch)-1 {
					t.Errorf("done %v, want every event but %d", done, bad)
				}
				for i, id := range batch {
					o := outcomeOf(t, st, id)
					switch {
					case id == bad:
						if o.status != store.EventPending || len(o.reached) != 0 || o.hooks != 0 {
							t.Errorf("the failing event: %+v, want pending with nothing written", o)
						}
					case specs[i].path == "set" || specs[i].path == "one":
						if o.status != store.EventPublished || o.hooks != 1 {
							t.Errorf("%s: %s with %d hook deliveries, want published once", specs[i].name, o.status, o.hooks)
						}
					}
				}
			})
		}
	}
}

// Two publishers given the same due events publish each once: through
// their claims (leases written first, or row locks), and even when both
// hold the same events at once (a claim
// lapsed while its publisher was still at work), since the set path's
// statement publishes only the events still pending (its UPDATE waits for
// the other transaction, then finds them published).
func TestPublishSetExactlyOnce(t *testing.T) {
	const n = 120
	for _, be := range testdb.Backends() {
		for _, mode := range []string{"claims", "locks", "same events"} {
			t.Run(be.Name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				st := openStore(t, be)
				seedDirectory(t, st)
				many := make([]spec, n)
				for i := range many {
					many[i] = spec{fmt.Sprint(i), "message:internal", store.Recipients{GroupNames: []string{"g1"}, UserIDs: []string{"u3"}}, "", "set"}
				}
				ids := insertSpecs(t, st, many)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for p := range 2 {
					d := New(st, Config{DueBatch: 25, DueLocks: mode == "locks"}, slog.New(slog.DiscardHandler))
					d.AddPublishHook(&recordHook{})
					wg.Go(func() {
						if mode == "same events" {
							_, errs[p] = d.publishClaimed(ctx, slices.Clone(ids))
							return
						}
						for {
							_, claimed, err := d.publishDueBatchN(ctx, d.dueBatch())
							if err != nil || claimed == 0 {
								errs[p] = err
								return
							}
						}
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatal(err)
				}
				for _, id := range ids {
					o := outcomeOf(t, st, id)
					if o.status != store.EventPublished || o.counts[store.ChannelMessage] != 3 || o.hooks != 1 {
						t.Fatalf("event %d: %+v, want published once to 3", id, o)
					}
				}
				for _, u := range []string{"u1", "u2", "u3"} {
					items, err := st.NotificationList(ctx, &store.NotificationListParams{UserID: u, Now: time.Now().Add(time.Minute), Limit: 1000})
					if err != nil {
						t.Fatal(err)
					}
					if len(items) != n {
						t.Errorf("%s has %d notifications, want %d", u, len(items), n)
					}
				}
			})
		}
	}
}

// Claimed by its locks, a batch in which an event fails is published one
// event at a time; the failing one is then claimed for a lease, so that
// it waits for the lease to lapse before it is tried again.
func TestPublishLockedBatchOneFails(t *testing.T) {
	for _, be := range testdb.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := openStore(t, be)
			seedDirectory(t, st)
			hook := &recordHook{fail: map[int64]bool{}}
			d := New(st, Config{FallbackGroups: []string{"staff"}, DueLocks: true}, slog.New(slog.DiscardHandler))
			d.AddPublishHook(hook)
			batch := insertSpecs(t, st, specs)
			bad := batch[slices.IndexFunc(specs, func(s spec) bool { return s.name == "one user" })]
			hook.fail[bad] = true
			done, claimed, err := d.publishDueBatchN(ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			// The cancelled event is not due: it was never pending.
			if claimed != len(batch)-1 || slices.Contains(done, bad) || len(done) != len(batch)-2 {
				t.Errorf("claimed %d, done %v; want %d claimed, all done but %d", claimed, done, len(batch)-1, bad)
			}
			for i, id := range batch {
				o := outcomeOf(t, st, id)
				if id != bad && (specs[i].path == "set" || specs[i].path == "one") && (o.status != store.EventPublished || o.hooks != 1) {
					t.Errorf("%s: %s with %d hook deliveries, want published once", specs[i].name, o.status, o.hooks)
				}
			}
			if o := outcomeOf(t, st, bad); o.status != store.EventPending || len(o.reached) != 0 || o.hooks != 0 {
				t.Errorf("the failing event: %+v, want pending with nothing written", o)
			}
			// It holds a lease now: the next round finds nothing due.
			_, claimed, err = d.publishDueBatchN(ctx, 100)
			if err != nil || claimed != 0 {
				t.Errorf("next round claimed %d (%v), want none while the failing event's lease runs", claimed, err)
			}
		})
	}
}

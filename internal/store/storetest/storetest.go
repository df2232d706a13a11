package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cloche/cloche/internal/store"
)

// Run runs the conformance suite; open must return a fresh, migrated store
// and arrange for it to be closed when t ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Store", testStore},
		{"Types", testTypes},
		{"Users", testUsers},
		{"Companies", testCompanies},
		{"Contacts", testContacts},
		{"Events", testEvents},
		{"EventList", testEventList},
		{"EventCancelPending", testEventCancelPending},
		{"EventClaim", testEventClaim},
		{"EventClaimDue", testEventClaimDue},
		{"EventClaimDueConcurrent", testEventClaimDueConcurrent},
		{"EventClaimBatch", testEventClaimBatch},
		{"EventLockDue", testEventLockDue},
		{"EventNextDue", testEventNextDue},
		{"SavepointFanOut", testSavepointFanOut},
		{"Notifications", testNotifications},
		{"NotificationFanOut", testNotificationFanOut},
		{"PublishMany", testPublishMany},
		{"NotificationPages", testNotificationPages},
		{"NotificationPurge", testNotificationPurge},
		{"Links", testLinks},
		{"Archive", testArchive},
		{"Deliveries", testDeliveries},
		{"DeliveryClaim", testDeliveryClaim},
		{"DeliveryClaimConcurrent", testDeliveryClaimConcurrent},
		{"DeliveryLeases", testDeliveryLeases},
		{"OutboundChannels", testOutboundChannels},
		{"Webhooks", testWebhooks},
		{"Attachments", testAttachments},
		{"InTx", testInTx},
		{"QueriesInTx", testQueriesInTx},
		{"Stats", testStats},
		{"UserSearch", testUserSearch},
		{"APIKeys", testAPIKeys},
		{"Settings", testSettings},
		{"Idempotency", testIdempotency},
		{"UserList", testUserList},
		{"Groups", testGroups},
		{"MonitorStats", testMonitorStats},
		{"DeliveryStates", testDeliveryStates},
		{"Savepoint", testSavepoint},
		{"ChangeLog", testChangeLog},
		{"NotificationFeed", testNotificationFeed},
		{"NotificationSince", testNotificationSince},
		{"CountUnreadMany", testCountUnreadMany},
		{"ReadTx", testReadTx},
		{"Preferences", testPreferences},
		{"PreferenceFanOut", testPreferenceFanOut},
		{"PreferenceFanOutRoutes", testPreferenceFanOutRoutes},
		{"PreferenceHolders", testPreferenceHolders},
		{"PreferenceFanOutAlso", testPreferenceFanOutAlso},
		{"GroupContactsAmong", testGroupContactsAmong},
		{"AccountType", testAccountType},
		{"DirectorySync", testDirectorySync},
		{"PersonSettings", testPersonSettings},
		{"DeliveryHold", testDeliveryHold},
		{"DigestSettings", testDigestSettings},
		{"DigestRun", testDigestRun},
		{"DigestClaimConcurrent", testDigestClaimConcurrent},
		{"PushSubscriptions", testPushSubscriptions},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			g.fn(t, open(t))
		})
	}
}

// t0 has nanoseconds and a zone other than UTC, so that every round trip
// checks normalisation to UTC and microseconds.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.FixedZone("UTC+1", 3600))

// norm is what a store returns for a time it was given.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// at returns t0 moved by d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

func testStore(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if b := s.Backend(); b != "sqlite" && b != "postgres" {
		t.Errorf("Backend() = %q, want sqlite or postgres", b)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless errors.Is(err, target).
func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want one matching %q", err, target)
	}
}

// wantFieldError fails unless err is a *store.FieldError on field.
func wantFieldError(t testing.TB, err error, field string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v, want a *store.FieldError on %q", err, field)
	}
	if fe.Field != field {
		t.Fatalf("FieldError.Field = %q (%v), want %q", fe.Field, err, field)
	}
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("error %v does not match store.ErrInvalid", err)
	}
}

// checkTime reports got unless it is the instant want, in UTC.
func checkTime(t testing.TB, name string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v is not in UTC", name, got)
	}
}

// checkTimePtr is checkTime for optional times.
func checkTimePtr(t testing.TB, name string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", name, fmtPtr(got), fmtPtr(want))
	default:
		checkTime(t, name, *got, *want)
	}
}

func fmtPtr(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.String()
}

// checkRecent reports got unless it is a current time, in UTC.
func checkRecent(t testing.TB, name string, got time.Time) {
	t.Helper()
	if d := time.Since(got); d < -time.Minute || d > time.Minute {
		t.Errorf("%s = %v, want about now", name, got)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s = %v is not in UTC", name, got)
	}
}

// equal reports got unless it deeply equals want.
func equal[T any](t testing.TB, name string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", name, got, want)
	}
}

// sameContacts compares contact lists, nil and empty being the same.
func sameContacts(t testing.TB, name string, got, want []store.Contact) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	equal(t, name, got, want)
}

// sameIDs compares id lists, nil and empty being the same.
func sameIDs(t testing.TB, name string, got, want []int64) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	equal(t, name, got, want)
}

// newEvent inserts an event of key message:internal, changed by mod.
func newEvent(t testing.TB, q store.Queries, mod func(e *store.Event)) *store.Event {
	t.Helper()
	e := &store.Event{
		Key:        "message:internal",
		Title:      "Hello",
		Body:       "Body text",
		Recipients: store.Recipients{UserIDs: []string{"u1"}},
		Status:     store.EventPending,
		CreatedAt:  t0,
	}
	if mod != nil {
		mod(e)
	}
	if err := q.EventInsert(t.Context(), e); err != nil {
		t.Fatalf("EventInsert(%s): %v", e.Title, err)
	}
	return e
}

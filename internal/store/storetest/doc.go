// Package storetest is the conformance suite every store backend passes.
//
// A backend's test calls Run with a function that opens a fresh, migrated,
// empty store (and closes it in t.Cleanup):
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := postgres.Open(t.Context(), testdb.PostgresURL(t), nil)
//			...
//			return s
//		})
//	}
//
// Run opens one store per group of subtests (directory, types, events, ...)
// so that groups do not see each other's rows.
package storetest

// Package testdb gives tests real databases: a fresh SQLite file, or a
// fresh schema in the PostgreSQL server named by CLOCHE_TEST_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable),
// dropped when the test ends.
//
// A test that wants PostgreSQL is skipped when the server cannot be
// reached, unless CLOCHE_TEST_REQUIRE_ALL=1, which makes it fail (CI sets
// it). Tests that should run on every backend loop over Backends:
//
//	for _, b := range testdb.Backends() {
//		t.Run(b.Name, func(t *testing.T) {
//			url := b.URL(t)
//			...
//		})
//	}
package testdb

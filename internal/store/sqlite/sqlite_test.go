package sqlite_test

import (
	"testing"

	"github.com/cloche/cloche/internal/store"
	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/store/storetest"
	"github.com/cloche/cloche/internal/testdb"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(t.Context(), testdb.SQLiteURL(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	})
}

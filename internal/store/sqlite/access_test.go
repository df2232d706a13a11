package sqlite_test

import (
	"testing"

	"github.com/cloche/cloche/internal/store/sqlite"
	"github.com/cloche/cloche/internal/store/storetest"
	"github.com/cloche/cloche/internal/testdb"
)

func TestDeliveryRetry(t *testing.T) {
	s, err := sqlite.Open(t.Context(), testdb.SQLiteURL(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	storetest.DeliveryRetry(t, s, func(t *testing.T, id int64, code int, message string) {
		if _, err := s.DB().ExecContext(t.Context(), `UPDATE deliveries SET state = 'failed', attempts = 3,
			last_code = ?, last_message = ? WHERE id = ?`, code, message, id); err != nil {
			t.Fatal(err)
		}
	})
}

package postgres_test

import (
	"testing"

	"github.com/cloche/cloche/internal/store/storetest"
	"github.com/cloche/cloche/internal/testdb"
)

func TestDeliveryRetry(t *testing.T) {
	s := open(t, testdb.PostgresURL(t))
	storetest.DeliveryRetry(t, s, func(t *testing.T, id int64, code int, message string) {
		if _, err := s.Pool().Exec(t.Context(), `UPDATE deliveries SET state = 'failed', attempts = 3,
			last_code = $1, last_message = $2 WHERE id = $3`, code, message, id); err != nil {
			t.Fatal(err)
		}
	})
}

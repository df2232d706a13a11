package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloche/cloche/internal/store"
)

// SQLSTATE codes mapped to store sentinels.
const (
	codeForeignKeyViolation = "23503"
	codeUniqueViolation     = "23505"
)

// mapErr maps a pgx error to the store's sentinels, keeping the original
// error in the chain:
//
//   - pgx.ErrNoRows: store.ErrNotFound;
//   - foreign key violation: a *store.FieldError on fkField when it is given
//     (an insert or update naming a row that does not exist), else
//     store.ErrInUse (a delete of a row others refer to);
//   - unique violation: store.ErrConflict;
//   - failure to connect: store.ErrUnavailable.
//
// Other errors are returned as they are.
func mapErr(err error, fkField string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case codeForeignKeyViolation:
			if fkField != "" {
				fe := store.Invalid(fkField, "refers to a row that does not exist")
				if pgErr.Detail != "" {
					fe.Problem += " (" + pgErr.Detail + ")"
				}
				return fe
			}
			return fmt.Errorf("%w: %w", store.ErrInUse, err)
		case codeUniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		}
		return err
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

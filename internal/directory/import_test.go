package directory

import (
	"errors"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// TestUserTimeZone: a user's time zone is checked against the embedded
// zone database, an unknown one named with its row and the nearest name.
func TestUserTimeZone(t *testing.T) {
	u, err := UserInput{ID: "1", TimeZone: " Australia/Adelaide "}.User("users[0].")
	if err != nil || u.TimeZone != "Australia/Adelaide" {
		t.Fatalf("valid zone: %+v %v", u, err)
	}
	if u, err := (UserInput{ID: "1"}).User(""); err != nil || u.TimeZone != "" {
		t.Fatalf("no zone: %+v %v", u, err)
	}
	_, err = UserInput{ID: "1", TimeZone: "Europe/Pari"}.User("users[3].")
	var fe *store.FieldError
	if !errors.As(err, &fe) || fe.Field != "users[3].time_zone" || !strings.Contains(err.Error(), "did you mean Europe/Paris?") {
		t.Fatalf("unknown zone: %v", err)
	}
}

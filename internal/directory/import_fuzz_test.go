package directory

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

// FuzzDecodeImport reads any bytes as an import file: a file is refused
// with a field error naming the file or a row, or every row it gives is
// clean (ids trimmed, unique and not empty; a known locale) and reads back
// the same when written again as an import.
func FuzzDecodeImport(f *testing.F) {
	for _, seed := range []string{
		`{"companies":[{"id":10,"name":"Nord","email":"nord@example.org"}],"users":[{"id":"1","email":"a@example.org","name":"A","groups":["admin"],"companies":[10],"follower_id":2},{"id":2,"locale":"en","active":false}]}`,
		`{"users":[{"id":" 7 ","groups":[" g ","g"],"companies":["1","1"]}]}`,
		`{"users":[{"id":1},{"id":"1"}]}`,
		`{"users":[{"id":1.5}]}`,
		`{"users":[{"id":1,"follower_id":1}]}`,
		`{"users":[{"id":1,"email":"not an address"}]}`,
		`{"users":[{"id":1,"locale":"de"}]}`,
		`{"companies":[{"id":""}]}`,
		`{"unknown":1}`,
		`{"users":[{"id":1e3}]}`,
		`{"users":[{"id":99999999999999999999}]}`,
		`[]`, ``, `{`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Decode(bytes.NewReader(data))
		if err != nil {
			checkFieldError(t, err, "file")
			return
		}
		companies, users, err := Check(file)
		if err != nil {
			checkFieldError(t, err, "companies[", "users[")
			return
		}
		ids := map[string]bool{}
		for _, c := range companies {
			if c.ID == "" || c.ID != strings.TrimSpace(c.ID) || ids["c"+c.ID] {
				t.Fatalf("company id %q: empty, untrimmed or twice", c.ID)
			}
			ids["c"+c.ID] = true
		}
		for _, u := range users {
			if u.ID == "" || u.ID != strings.TrimSpace(u.ID) || ids["u"+u.ID] {
				t.Fatalf("user id %q: empty, untrimmed or twice", u.ID)
			}
			ids["u"+u.ID] = true
			if u.Locale != "fr" && u.Locale != "en" {
				t.Fatalf("user %q has locale %q", u.ID, u.Locale)
			}
			if u.FollowerID == u.ID {
				t.Fatalf("user %q follows themselves", u.ID)
			}
		}
		// Written back as an import, the rows read the same.
		again, err := Decode(bytes.NewReader(reencode(t, companies, users)))
		if err != nil {
			t.Fatalf("re-encoded file refused: %v", err)
		}
		companies2, users2, err := Check(again)
		if err != nil {
			t.Fatalf("re-encoded rows refused: %v", err)
		}
		if !reflect.DeepEqual(companies, companies2) || !reflect.DeepEqual(users, users2) {
			t.Fatalf("rows changed when written back:\n%+v %+v\n%+v %+v", companies, users, companies2, users2)
		}
	})
}

func checkFieldError(t *testing.T, err error, prefixes ...string) {
	t.Helper()
	var fe *store.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %q is not a field error", err)
	}
	for _, p := range prefixes {
		if strings.HasPrefix(fe.Field, p) {
			return
		}
	}
	t.Fatalf("error %q names field %q, not one of %v", err, fe.Field, prefixes)
}

func reencode(t *testing.T, companies []*store.Company, users []*store.User) []byte {
	t.Helper()
	var file File
	for _, c := range companies {
		active := c.Active
		file.Companies = append(file.Companies, CompanyInput{ID: ID(c.ID), Name: c.Name, Email: c.Email, Active: &active})
	}
	for _, u := range users {
		active := u.Active
		in := UserInput{ID: ID(u.ID), Email: u.Email, Name: u.Name, Locale: u.Locale, Active: &active,
			Groups: u.Groups, FollowerID: ID(u.FollowerID)}
		for _, c := range u.Companies {
			in.Companies = append(in.Companies, ID(c))
		}
		file.Users = append(file.Users, in)
	}
	b, err := json.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"

	"github.com/cloche/cloche/internal/quiet"
	"github.com/cloche/cloche/internal/store"
)

// ID is a directory id. Hosts send strings or JSON numbers; both are kept
// as strings.
type ID string

// UnmarshalJSON accepts "42" and 42.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return fmt.Errorf("an id must be a string or a number")
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return fmt.Errorf("an id must be a string or an integer, not %s", n)
	}
	*id = ID(n.String())
	return nil
}

// UserInput is a user as hosts send it.
type UserInput struct {
	ID         ID       `json:"id"`
	Email      string   `json:"email"`
	Name       string   `json:"name"`
	Locale     string   `json:"locale"`
	Active     *bool    `json:"active"` // default true
	Groups     []string `json:"groups"`
	Companies  []ID     `json:"companies"`
	FollowerID ID       `json:"follower_id"`
	// AccountType: entrepreneur, equipe_appui, hybride (both) or another
	// string of the host's; empty: none.
	AccountType string `json:"account_type"`
	// TimeZone is the person's IANA zone; empty keeps the one they have
	// (or the organisation's).
	TimeZone string `json:"time_zone,omitempty"`
}

// CompanyInput is a company as hosts send it.
type CompanyInput struct {
	ID     ID     `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Active *bool  `json:"active"` // default true
}

// File is the bulk import shape: companies first, then users.
type File struct {
	Companies []CompanyInput `json:"companies"`
	Users     []UserInput    `json:"users"`
}

// Locales Cloche speaks.
var Locales = []string{"fr", "en"}

// DefaultLocale is given to users who name none.
const DefaultLocale = "fr"

// User validates in and returns the user to store; field names in errors
// start with prefix ("users[3]." in an import, "" for one user).
func (in UserInput) User(prefix string) (*store.User, error) {
	u := &store.User{
		ID:          strings.TrimSpace(string(in.ID)),
		Email:       strings.TrimSpace(in.Email),
		Name:        strings.TrimSpace(in.Name),
		Locale:      strings.TrimSpace(in.Locale),
		Active:      in.Active == nil || *in.Active,
		FollowerID:  strings.TrimSpace(string(in.FollowerID)),
		AccountType: strings.TrimSpace(in.AccountType),
		TimeZone:    strings.TrimSpace(in.TimeZone),
		Groups:      []string{},
		Companies:   []string{},
	}
	if u.ID == "" {
		return nil, store.Invalid(prefix+"id", "must not be empty")
	}
	companies := make([]string, len(in.Companies))
	for i, c := range in.Companies {
		companies[i] = string(c)
	}
	errs := []error{
		store.CheckID(prefix+"id", u.ID),
		store.CheckEmail(prefix+"email", u.Email),
		store.CheckName(prefix+"name", u.Name),
		store.CheckText(prefix+"locale", u.Locale),
		store.CheckID(prefix+"follower_id", u.FollowerID),
		store.CheckID(prefix+"account_type", u.AccountType),
	}
	errs = append(errs, store.CheckIDs(prefix+"groups", in.Groups)...)
	errs = append(errs, store.CheckIDs(prefix+"companies", companies)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if u.Email != "" {
		if _, err := mail.ParseAddress(u.Email); err != nil || strings.ContainsAny(u.Email, "<> ") {
			return nil, store.Invalid(prefix+"email", "%q is not an e-mail address", u.Email)
		}
	}
	switch u.Locale {
	case "":
		u.Locale = DefaultLocale
	case "fr", "en":
	default:
		return nil, store.Invalid(prefix+"locale", "must be fr or en, not %q", u.Locale)
	}
	if u.AccountType == store.AccountTypeAll {
		return nil, store.Invalid(prefix+"account_type", "%q is a route reaching everybody, not an account type", u.AccountType)
	}
	if u.TimeZone != "" {
		loc, err := quiet.LoadZone(prefix+"time_zone", u.TimeZone)
		if err != nil {
			return nil, err
		}
		u.TimeZone = loc.String()
	}
	if u.FollowerID == u.ID {
		return nil, store.Invalid(prefix+"follower_id", "a user cannot follow themselves")
	}
	for i, g := range in.Groups {
		g = strings.TrimSpace(g)
		if g == "" {
			return nil, store.Invalid(fmt.Sprintf("%sgroups[%d]", prefix, i), "must not be empty")
		}
		u.Groups = append(u.Groups, g)
	}
	for i, c := range in.Companies {
		c := strings.TrimSpace(string(c))
		if c == "" {
			return nil, store.Invalid(fmt.Sprintf("%scompanies[%d]", prefix, i), "must not be empty")
		}
		u.Companies = append(u.Companies, c)
	}
	u.Groups, u.Companies = dedupe(u.Groups), dedupe(u.Companies)
	return u, nil
}

// Company validates in and returns the company to store.
func (in CompanyInput) Company(prefix string) (*store.Company, error) {
	c := &store.Company{
		ID:     strings.TrimSpace(string(in.ID)),
		Name:   strings.TrimSpace(in.Name),
		Email:  strings.TrimSpace(in.Email),
		Active: in.Active == nil || *in.Active,
	}
	if c.ID == "" {
		return nil, store.Invalid(prefix+"id", "must not be empty")
	}
	if c.Name == "" {
		return nil, store.Invalid(prefix+"name", "must not be empty")
	}
	if err := errors.Join(store.CheckID(prefix+"id", c.ID), store.CheckName(prefix+"name", c.Name),
		store.CheckEmail(prefix+"email", c.Email)); err != nil {
		return nil, err
	}
	if c.Email != "" {
		if _, err := mail.ParseAddress(c.Email); err != nil || strings.ContainsAny(c.Email, "<> ") {
			return nil, store.Invalid(prefix+"email", "%q is not an e-mail address", c.Email)
		}
	}
	return c, nil
}

// ImportStats counts what an import wrote.
type ImportStats struct {
	Companies int `json:"companies"`
	Users     int `json:"users"`
}

// Decode reads an import file, rejecting unknown fields and text that is
// not UTF-8 (naming the field).
func Decode(r io.Reader) (*File, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}
	if err := store.CheckJSONText(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("directory: import: %w", store.Invalid("file", "is not valid JSON of the import shape: %v", err))
	}
	return &f, nil
}

// Check validates every row of f and returns what to store; the first bad
// row is a *store.FieldError naming its position and field
// ("users[3].email").
func Check(f *File) ([]*store.Company, []*store.User, error) {
	companies := make([]*store.Company, len(f.Companies))
	seenCompanies := map[string]bool{}
	for i, in := range f.Companies {
		c, err := in.Company(fmt.Sprintf("companies[%d].", i))
		if err != nil {
			return nil, nil, fmt.Errorf("directory: import: %w", err)
		}
		if seenCompanies[c.ID] {
			return nil, nil, fmt.Errorf("directory: import: %w", store.Invalid(fmt.Sprintf("companies[%d].id", i), "%q appears twice in the file", c.ID))
		}
		seenCompanies[c.ID] = true
		companies[i] = c
	}
	users := make([]*store.User, len(f.Users))
	seenUsers := map[string]bool{}
	for i, in := range f.Users {
		u, err := in.User(fmt.Sprintf("users[%d].", i))
		if err != nil {
			return nil, nil, fmt.Errorf("directory: import: %w", err)
		}
		if seenUsers[u.ID] {
			return nil, nil, fmt.Errorf("directory: import: %w", store.Invalid(fmt.Sprintf("users[%d].id", i), "%q appears twice in the file", u.ID))
		}
		seenUsers[u.ID] = true
		users[i] = u
	}
	return companies, users, nil
}

// Import writes f in one transaction: every row is checked first, and one
// bad row rejects the whole file with its position and field. then, when
// not nil, runs last in the same transaction, given the users written.
func Import(ctx context.Context, st store.Store, f *File, then func(ctx context.Context, tx store.Tx, users []string) error) (*ImportStats, error) {
	companies, users, err := Check(f)
	if err != nil {
		return nil, err
	}
	err = st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, c := range companies {
			if err := tx.CompanyUpsert(ctx, c); err != nil {
				return err
			}
		}
		// Users first without their follower, who may come later in the
		// file; then the followers.
		for i, u := range users {
			follower := u.FollowerID
			u.FollowerID = ""
			err := tx.UserUpsert(ctx, u)
			u.FollowerID = follower
			if err != nil {
				return rowError(fmt.Sprintf("users[%d].", i), err)
			}
		}
		for i, u := range users {
			if u.FollowerID == "" {
				continue
			}
			if err := tx.UserUpsert(ctx, u); err != nil {
				return rowError(fmt.Sprintf("users[%d].", i), err)
			}
		}
		if then == nil {
			return nil
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		return then(ctx, tx, ids)
	})
	if err != nil {
		return nil, fmt.Errorf("directory: import: %w", err)
	}
	return &ImportStats{Companies: len(companies), Users: len(users)}, nil
}

// rowError prefixes a store field error with the row it came from.
func rowError(prefix string, err error) error {
	var fe *store.FieldError
	if errors.As(err, &fe) {
		return &store.FieldError{Field: prefix + fe.Field, Problem: fe.Problem, Hint: fe.Hint}
	}
	return err
}

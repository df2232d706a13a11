package store

import "context"

// Account types of enDI. A person carries one (or none); hosts may use
// other strings.
const (
	// AccountTypeEntrepreneur is a member running a business of their own.
	AccountTypeEntrepreneur = "entrepreneur"
	// AccountTypeEquipeAppui is a member of the support staff.
	AccountTypeEquipeAppui = "equipe_appui"
	// AccountTypeHybride counts as both entrepreneur and equipe_appui.
	AccountTypeHybride = "hybride"
	// AccountTypeAll, as a route, reaches every active person; no person
	// carries it.
	AccountTypeAll = "all"
)

// AccountTypesReached returns the account types a route by account type t
// reaches: entrepreneur and equipe_appui also reach hybride people, any
// other string itself only; nil for "all" (every person).
func AccountTypesReached(t string) []string {
	switch t {
	case AccountTypeAll:
		return nil
	case AccountTypeEntrepreneur, AccountTypeEquipeAppui:
		return []string{t, AccountTypeHybride}
	}
	return []string{t}
}

// AccountTypeQueries read the people an account-type route reaches.
type AccountTypeQueries interface {
	// AccountTypeContacts returns the active users reached by account
	// type t (AccountTypesReached), each once, ordered by id.
	AccountTypeContacts(ctx context.Context, t string) ([]Contact, error)
	// AccountTypeContactsAmong is AccountTypeContacts limited to the
	// users of ids (none when ids is empty).
	AccountTypeContactsAmong(ctx context.Context, t string, ids []string) ([]Contact, error)
	// AccountTypeActive tells whether an active user is reached by
	// account type t. It stops at the first one found.
	AccountTypeActive(ctx context.Context, t string) (bool, error)
}

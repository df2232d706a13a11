package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/cloche/cloche"
	"github.com/cloche/cloche/internal/directory"
)

// The cooperative, in the shape of `cloche directory import`:
//
//	1  Alice Martin    admin, manager
//	2  Bruno Lefèvre   manager
//	3  Chloé Durand    manager (en)
//	4  David Bernard   admin, inactive
//	10 Emma Petit      member of Atelier Nord           followed by Bruno
//	11 Farid Haddad    member of Atelier Nord           followed by Chloé
//	12 Gaëlle Roux     member of Boulangerie du Port    followed by Bruno (en)
//	13 Hugo Moreau     member of Boulangerie and Studio followed by Chloé
//	14 Inès Laurent    member of Studio Graphique Sud   no follower
//	15 Jules Simon     member of Menuiserie (closed)    inactive
//	16 Karima Benali   member of Studio Graphique Sud   followed by David (inactive) (en)
//	17 Léo Garnier     member of Atelier Nord, no e-mail, followed by Bruno
//
//go:embed directory.json
var directoryJSON []byte

// Directory returns the demo directory.
func Directory() (*cloche.DirectoryFile, error) {
	f, err := directory.Decode(bytes.NewReader(directoryJSON))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return f, nil
}

// Summary describes what the directory holds, for the log.
type Summary struct {
	Companies int            `json:"companies"`
	Users     int            `json:"users"`
	Inactive  int            `json:"inactive"`
	Groups    map[string]int `json:"groups"`
	Followed  int            `json:"followed"`
}

func (s Summary) String() string {
	names := make([]string, 0, len(s.Groups))
	for g := range s.Groups {
		names = append(names, g)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, g := range names {
		parts[i] = fmt.Sprintf("%d %s", s.Groups[g], g)
	}
	return fmt.Sprintf("%d companies, %d users (%s; %d inactive; %d with a follower)",
		s.Companies, s.Users, strings.Join(parts, ", "), s.Inactive, s.Followed)
}

// Load writes the demo directory into svc's database, in one transaction.
// It is idempotent: the rows are upserted, so running it at every start
// restores the demo people as they were and touches no one else.
func Load(ctx context.Context, svc *cloche.Service) (*Summary, error) {
	f, err := Directory()
	if err != nil {
		return nil, err
	}
	if _, err := svc.Import(ctx, f); err != nil {
		return nil, fmt.Errorf("demo: load the directory: %w", err)
	}
	return summarize(f), nil
}

func summarize(f *cloche.DirectoryFile) *Summary {
	s := &Summary{Companies: len(f.Companies), Users: len(f.Users), Groups: map[string]int{}}
	for _, u := range f.Users {
		if u.Active != nil && !*u.Active {
			s.Inactive++
		}
		for _, g := range u.Groups {
			s.Groups[g]++
		}
		if u.FollowerID != "" {
			s.Followed++
		}
	}
	return s
}

package quiet

import (
	"strings"
	"time"
	// The binary carries the zone database: a person's zone never
	// depends on the machine's.
	_ "time/tzdata"

	"github.com/cloche/cloche/internal/store"
)

// LoadZone loads an IANA zone name. An unknown one is a *store.FieldError
// on field, suggesting the nearest known name. "Local" is refused: a
// person's zone is a name every machine agrees on.
func LoadZone(field, name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, store.Invalid(field, "must not be empty (an IANA name such as Europe/Paris)")
	}
	if name != "Local" && !strings.Contains(name, "..") {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
	}
	e := store.Invalid(field, "unknown time zone %q", name)
	if s := Nearest(name); s != "" {
		e = e.WithHint("did you mean " + s + "?")
	} else {
		e = e.WithHint("an IANA name such as Europe/Paris")
	}
	return nil, e
}

// Nearest is the known zone name closest to name (edit distance, case
// ignored), or "" when none is close enough to be a typo.
func Nearest(name string) string {
	in := strings.ToLower(name)
	best, bestD := "", -1
	for _, z := range zoneNames {
		d := distance(in, strings.ToLower(z))
		if bestD < 0 || d < bestD {
			best, bestD = z, d
		}
	}
	// A typo, not another name: at most a third of the name changed.
	if bestD < 0 || bestD > max(2, len([]rune(name))/3) {
		return ""
	}
	return best
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

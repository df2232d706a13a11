package realtime

import (
	"fmt"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func TestChunkRanges(t *testing.T) {
	r := func(ev, first, last int64) store.FeedRange {
		return store.FeedRange{EventID: ev, FirstID: first, LastID: last}
	}
	for _, tc := range []struct {
		name   string
		ranges []store.FeedRange
		want   string
	}{
		{"none", nil, "[[]]"},
		{"small", []store.FeedRange{r(1, 1, 3), r(2, 4, 5)}, "[[{1 1 3} {2 4 5}]]"},
		{"exact", []store.FeedRange{r(1, 1, 10)}, "[[{1 1 10}]]"},
		{"cut", []store.FeedRange{r(1, 1, 25)}, "[[{1 1 10}] [{1 11 20}] [{1 21 25}]]"},
		{"across", []store.FeedRange{r(1, 1, 6), r(2, 7, 14), r(3, 20, 20)}, "[[{1 1 6} {2 7 10}] [{2 11 14} {3 20 20}]]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(chunkRanges(tc.ranges, 10)); got != tc.want {
				t.Errorf("chunkRanges = %s, want %s", got, tc.want)
			}
		})
	}
}

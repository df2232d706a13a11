package realtime

import (
	"encoding/json"
	"testing"

	"github.com/cloche/cloche/internal/store"
)

func TestCountsJSON(t *testing.T) {
	for _, c := range []map[store.Channel]int{
		{store.ChannelMessage: 3, store.ChannelHeaderMessage: 0, store.ChannelAlert: 12},
		{store.ChannelMessage: 0, store.ChannelHeaderMessage: 1, store.ChannelAlert: 0},
	} {
		want, _ := json.Marshal(c)
		got, err := json.Marshal(countsJSON(c))
		if err != nil || string(got) != string(want) {
			t.Errorf("countsJSON(%v) = %s, %v; want %s", c, got, err, want)
		}
	}
}

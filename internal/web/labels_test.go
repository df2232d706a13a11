package web

import (
	"context"
	"net/url"
	"regexp"
	"testing"

	"github.com/cloche/cloche"
)

// rawChannel finds a channel's API name shown as text (between tags, or
// between tags and a comma), where its label belongs.
var rawChannel = regexp.MustCompile(`>\s*(?:[^<>]*,\s*)?(email|message|header_message|alert)\s*(?:,[^<>]*)?<|\bon (email|message|header_message|alert)\b|: (email|message|header_message|alert) by default|— [\w:.-]+ \((email|message|header_message|alert)\)<`)

var codeRE = regexp.MustCompile(`<code>[^<]*</code>`)

// TestChannelLabelsEverywhere: every page names a channel by one label
// ("Bell menu (message)"), never by its bare API name.
func TestChannelLabelsEverywhere(t *testing.T) {
	forEachBackend(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, nil)
		ctx := context.Background()
		loadDemo(t, h.svc)
		var ids []int64
		for _, ch := range channels {
			res, err := h.svc.Notify(ctx, cloche.Notification{Key: "message:internal", Title: "On " + string(ch)}, managers, cloche.ForceChannel(ch))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, res.EventID)
		}
		h.mustLogin()
		pages := []string{"/console/", "/console/events", "/console/types", "/console/send", "/console/directory/user?id=2",
			"/console/types/edit?key=" + url.QueryEscape("message:system")}
		for _, id := range ids {
			pages = append(pages, "/console/events/"+itoa(id))
		}
		for _, path := range pages {
			p := h.get(path)
			wantStatus(t, path, p, 200)
			p.body = codeRE.ReplaceAllString(p.body, "<code></code>") // keys and categories, not channels
			if m := rawChannel.FindString(p.body); m != "" {
				i := rawChannel.FindStringIndex(p.body)
				t.Errorf("%s shows a bare channel name: %q in %q", path, m, p.body[max(i[0]-300, 0):i[1]])
			}
		}
		// The flash after sending names the channel by its label too.
		p := h.send(url.Values{"key": {"message:internal"}, "title": {"Flash"}, "groups": {"manager"}, "channel": {"alert"}})
		wantStatus(t, "send", p, 303)
		p = h.get(p.location())
		if m := rawChannel.FindString(p.body); m != "" {
			t.Errorf("after sending: a bare channel name: %q", m)
		}
		wantContains(t, "after sending", p, "Alert (alert)")
	})
}

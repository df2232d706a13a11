package cloche_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloche/cloche"
)

func TestNotifyImmediate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)

		cases := []struct {
			name      string
			n         cloche.Notification
			r         cloche.Recipients
			force     cloche.Channel
			channel   cloche.Channel
			reached   int
			users     []string // who finds it in their inbox (in-app) or gets mail
			unknown   []string
			unknownCo string
		}{
			{name: "group, user in two groups once", n: cloche.Notification{Key: "message:internal", Title: "T", Body: "B"},
				r: cloche.Recipients{GroupNames: []string{"manager", "admin"}}, channel: cloche.ChannelMessage,
				reached: 2, users: []string{"1", "2"}},
			{name: "routes overlap", n: cloche.Notification{Key: "message:internal", Title: "T"},
				r: cloche.Recipients{GroupNames: []string{"manager"}, UserIDs: []string{"1", "3", "1"}}, channel: cloche.ChannelMessage,
				reached: 3, users: []string{"1", "2", "3"}},
			{name: "default channel alert", n: cloche.Notification{Key: "message:system", Title: "T"},
				r: cloche.Recipients{UserIDs: []string{"6"}}, channel: cloche.ChannelAlert, reached: 1, users: []string{"6"}},
			{name: "forced channel", n: cloche.Notification{Key: "message:internal", Title: "T"},
				r: cloche.Recipients{UserIDs: []string{"6"}}, force: cloche.ChannelHeaderMessage, channel: cloche.ChannelHeaderMessage,
				reached: 1, users: []string{"6"}},
			{name: "inactive user and unknown ids", n: cloche.Notification{Key: "message:internal", Title: "T"},
				r: cloche.Recipients{UserIDs: []string{"4", "99", "6"}, CompanyID: "77"}, channel: cloche.ChannelMessage,
				reached: 1, users: []string{"6"}, unknown: []string{"99"}, unknownCo: "77"},
			{name: "company members in app", n: cloche.Notification{Key: "message:internal", Title: "T"},
				r: cloche.Recipients{CompanyID: "10"}, channel: cloche.ChannelMessage, reached: 3, users: []string{"1", "2", "5"}},
			{name: "inactive company reaches nobody", n: cloche.Notification{Key: "message:internal", Title: "T"},
				r: cloche.Recipients{CompanyID: "30"}, channel: cloche.ChannelMessage, reached: 0},
			{name: "follower", n: cloche.Notification{Key: "userdata:reminder", Title: "T"},
				r: cloche.Recipients{FollowerUserID: "3"}, channel: cloche.ChannelMessage, reached: 1, users: []string{"2"}},
			{name: "no follower falls back to groups", n: cloche.Notification{Key: "userdata:reminder", Title: "T"},
				r: cloche.Recipients{FollowerUserID: "6"}, force: cloche.ChannelAlert, channel: cloche.ChannelAlert,
				reached: 2, users: []string{"1", "2"}},
			{name: "inactive follower falls back", n: cloche.Notification{Key: "userdata:reminder", Title: "T"},
				r: cloche.Recipients{FollowerUserID: "5"}, channel: cloche.ChannelMessage, reached: 2, users: []string{"1", "2"}},
			{name: "unknown person falls back", n: cloche.Notification{Key: "userdata:reminder", Title: "T"},
				r: cloche.Recipients{FollowerUserID: "404"}, channel: cloche.ChannelMessage, reached: 2, users: []string{"1", "2"},
				unknown: []string{"404"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var opts []cloche.NotifyOption
				if tc.force != "" {
					opts = append(opts, cloche.ForceChannel(tc.force))
				}
				tc.n.Title = tc.name
				res, err := svc.Notify(ctx, tc.n, tc.r, opts...)
				if err != nil {
					t.Fatalf("notify: %v", err)
				}
				if res.Status != cloche.EventPublished || res.Channel != tc.channel {
					t.Errorf("status %s channel %s, want published %s", res.Status, res.Channel, tc.channel)
				}
				if got := res.Reached[tc.channel]; got != tc.reached {
					t.Errorf("reached %d, want %d", got, tc.reached)
				}
				if !slices.Equal(res.UnknownUserIDs, tc.unknown) || res.UnknownCompanyID != tc.unknownCo {
					t.Errorf("unknown %v %q, want %v %q", res.UnknownUserIDs, res.UnknownCompanyID, tc.unknown, tc.unknownCo)
				}
				var got []string
				for _, id := range []string{"1", "2", "3", "4", "5", "6"} {
					page, err := svc.Inbox(ctx, cloche.InboxQuery{UserID: id, Channel: tc.channel})
					if err != nil {
						t.Fatal(err)
					}
					n := 0
					for _, it := range page.Items {
						if it.EventID == res.EventID {
							n++
						}
					}
					if n > 1 {
						t.Errorf("user %s got %d notifications of one event", id, n)
					}
					if n == 1 {
						got = append(got, id)
					}
				}
				if !slices.Equal(got, tc.users) {
					t.Errorf("inboxes holding it: %v, want %v", got, tc.users)
				}
				ev, err := svc.Event(ctx, res.EventID)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Status != cloche.EventPublished || ev.PublishedAt == nil || ev.Counts[tc.channel] != tc.reached {
					t.Errorf("event %+v", ev)
				}
			})
		}
	})
}

func TestNotifyEmailRecipients(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		cases := []struct {
			name      string
			r         cloche.Recipients
			addresses []string
		}{
			{"company with its own address", cloche.Recipients{CompanyID: "10"}, []string{"nord@example.org"}},
			{"company without address: active members with one", cloche.Recipients{CompanyID: "20"},
				[]string{"bob@example.org", "carol@example.org"}},
			{"inactive user gets no mail", cloche.Recipients{GroupNames: []string{"admin"}}, []string{"alice@example.org"}},
			{"member without address is skipped", cloche.Recipients{GroupNames: []string{"member"}},
				[]string{"carol@example.org", "frank@example.org"}},
			{"company address and a member both", cloche.Recipients{CompanyID: "10", UserIDs: []string{"1"}},
				[]string{"alice@example.org", "nord@example.org"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res, err := svc.Notify(ctx, cloche.Notification{Key: "task:status:valid", Title: "Validated"}, tc.r)
				if err != nil {
					t.Fatal(err)
				}
				if res.Channel != cloche.ChannelEmail || res.Reached[cloche.ChannelEmail] != len(tc.addresses) {
					t.Fatalf("channel %s reached %v, want email %d", res.Channel, res.Reached, len(tc.addresses))
				}
				ds, err := svc.Deliveries(ctx, cloche.DeliveryFilter{EventID: res.EventID})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, d := range ds {
					if d.State != "queued" {
						t.Errorf("delivery %d state %s, want queued", d.ID, d.State)
					}
					got = append(got, d.Address)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.addresses) {
					t.Errorf("addresses %v, want %v", got, tc.addresses)
				}
			})
		}
	})
}

func TestNotifyRejectsBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		svc := open(t, testConfig(url))
		loadDirectory(t, svc)
		now := time.Now()
		ok := cloche.Notification{Key: "message:internal", Title: "T"}
		to := cloche.Recipients{UserIDs: []string{"1"}}
		with := func(f func(n *cloche.Notification)) cloche.Notification { n := ok; f(&n); return n }
		cases := []struct {
			name  string
			n     cloche.Notification
			r     cloche.Recipients
			force cloche.Channel
			field string
			text  string
		}{
			{"unknown key", with(func(n *cloche.Notification) { n.Key = "nope:nope" }), to, "", "key", "cloche types set"},
			{"empty title", with(func(n *cloche.Notification) { n.Title = "  " }), to, "", "title", "must not be empty"},
			{"no recipient", ok, cloche.Recipients{}, "", "recipients", "at least one"},
			{"unknown channel", ok, to, "sms", "force_channel", "not a channel"},
			{"until before due", with(func(n *cloche.Notification) {
				n.DueAt, n.Until = ptr(now.Add(2*time.Hour)), ptr(now.Add(time.Hour))
			}), to, "", "until", "after due_datetime"},
			{"until in the past", with(func(n *cloche.Notification) { n.Until = ptr(now.Add(-time.Hour)) }), to, "", "until", "past"},
			{"context without id", with(func(n *cloche.Notification) { n.Context = &cloche.Context{Type: "invoice"} }), to, "", "context", "id"},
			{"bad check url", with(func(n *cloche.Notification) { n.CheckURL = "ftp://x" }), to, "", "check_url", "http"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var opts []cloche.NotifyOption
				if tc.force != "" {
					opts = append(opts, cloche.ForceChannel(tc.force))
				}
				_, err := svc.Notify(ctx, tc.n, tc.r, opts...)
				if !errors.Is(err, cloche.ErrInvalid) || fieldOf(err) != tc.field || !strings.Contains(err.Error(), tc.text) {
					t.Fatalf("err = %v (field %q), want invalid %s mentioning %q", err, fieldOf(err), tc.field, tc.text)
				}
			})
		}
		evs, err := svc.Events(ctx, cloche.EventFilter{})
		if err != nil || len(evs) != 0 {
			t.Fatalf("rejected requests left events: %v %v", evs, err)
		}
	})
}

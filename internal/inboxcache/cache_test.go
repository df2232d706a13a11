package inboxcache

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func put(c *Cache, user, query, body string, now time.Time) {
	c.Put(c.Begin(user), query, []byte(body), now, time.Time{})
}

func TestGetPut(t *testing.T) {
	c := New(time.Second, 1000)
	if _, ok := c.Get("1", "counts", t0); ok {
		t.Fatal("an empty cache answered")
	}
	put(c, "1", "counts", "a", t0)
	put(c, "1", "page", "b", t0)
	put(c, "2", "counts", "c", t0)
	for _, tc := range []struct {
		user, query string
		at          time.Time
		want        string // "" : no answer
	}{
		{"1", "counts", t0, "a"},
		{"1", "page", t0.Add(999 * time.Millisecond), "b"},
		{"2", "counts", t0, "c"},
		{"2", "page", t0, ""},
		{"3", "counts", t0, ""},
		{"1", "counts", t0.Add(time.Second), ""}, // the TTL is over
	} {
		got, ok := c.Get(tc.user, tc.query, tc.at)
		if string(got.Body) != tc.want || ok != (tc.want != "") {
			t.Errorf("Get(%s, %s, +%v) = %q, %v; want %q", tc.user, tc.query, tc.at.Sub(t0), got.Body, ok, tc.want)
		}
	}
}

func TestUntilShortensTheTTL(t *testing.T) {
	c := New(time.Minute, 1000)
	c.Put(c.Begin("1"), "page", []byte("x"), t0, t0.Add(time.Second))
	if _, ok := c.Get("1", "page", t0.Add(500*time.Millisecond)); !ok {
		t.Fatal("the answer is gone before its until")
	}
	if _, ok := c.Get("1", "page", t0.Add(time.Second)); ok {
		t.Fatal("the answer outlived its until (an item expiring)")
	}
}

func TestInvalidate(t *testing.T) {
	c := New(time.Minute, 1000)
	put(c, "1", "counts", "a", t0)
	put(c, "2", "counts", "b", t0)
	c.Invalidate("1")
	if _, ok := c.Get("1", "counts", t0); ok {
		t.Error("user 1's answer survived its invalidation")
	}
	if _, ok := c.Get("2", "counts", t0); !ok {
		t.Error("user 2's answer went with user 1's")
	}
	c.InvalidateAll()
	if _, ok := c.Get("2", "counts", t0); ok || c.Len() != 0 {
		t.Errorf("InvalidateAll kept %d users", c.Len())
	}
}

// A read that started before an invalidation may hold what the change
// replaced: it must not be kept.
func TestPutAfterAnInvalidationIsDropped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		invalidate func(c *Cache)
	}{
		{"the user", func(c *Cache) { c.Invalidate("1") }},
		{"everyone", func(c *Cache) { c.InvalidateAll() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(time.Minute, 1000)
			tk := c.Begin("1")
			tc.invalidate(c)
			c.Put(tk, "counts", []byte("stale"), t0, time.Time{})
			if got, ok := c.Get("1", "counts", t0); ok {
				t.Fatalf("kept %q, read before an invalidation", got.Body)
			}
			put(c, "1", "counts", "fresh", t0)
			if got, _ := c.Get("1", "counts", t0); string(got.Body) != "fresh" {
				t.Fatalf("a read begun after the invalidation was not kept: %q", got.Body)
			}
		})
	}
}

// A big answer is kept gzipped too; a small one is not.
func TestGzip(t *testing.T) {
	c := New(time.Minute, 1000)
	big := strings.Repeat(`{"id":1,"title":"Invoice 42 paid"},`, 100)
	for _, tc := range []struct {
		body     string
		wantGzip bool
	}{
		{`{"total":3}`, false},
		{big, true},
	} {
		a := c.Put(c.Begin("1"), tc.body[:5], []byte(tc.body), t0, time.Time{})
		got, _ := c.Get("1", tc.body[:5], t0)
		if (got.Gzip != nil) != tc.wantGzip || (a.Gzip != nil) != tc.wantGzip {
			t.Fatalf("%d bytes: gzip kept %v, want %v", len(tc.body), got.Gzip != nil, tc.wantGzip)
		}
		if !tc.wantGzip {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(got.Gzip))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || string(plain) != tc.body || len(got.Gzip) >= len(tc.body) {
			t.Fatalf("gzip of %d bytes: %d bytes, decompressing to the body: %v (%v)", len(tc.body), len(got.Gzip), string(plain) == tc.body, err)
		}
	}
}

func TestBoundedUsers(t *testing.T) {
	c := New(time.Minute, 2*shards)
	for u := range 100 * shards {
		put(c, fmt.Sprint(u), "counts", "x", t0)
	}
	if n := c.Len(); n > 2*shards {
		t.Fatalf("%d users kept, more than the bound %d", n, 2*shards)
	}
}

func TestNilCacheCachesNothing(t *testing.T) {
	c := New(0, 1000)
	if c != nil {
		t.Fatal("a zero TTL made a cache")
	}
	put(c, "1", "counts", "a", t0)
	c.Invalidate("1")
	c.InvalidateAll()
	if _, ok := c.Get("1", "counts", t0); ok || c.Len() != 0 {
		t.Fatal("a nil cache answered")
	}
	if a := c.Put(c.Begin("1"), "page", []byte("x"), t0, time.Time{}); string(a.Body) != "x" || a.Gzip != nil {
		t.Fatalf("a nil cache's Put returned %+v", a)
	}
}

func BenchmarkGet(b *testing.B) {
	c := New(time.Minute, 100000)
	body := make([]byte, 4096)
	for u := range 1000 {
		c.Put(c.Begin(fmt.Sprint(u)), "page", body, t0, time.Time{})
	}
	users := make([]string, 1000)
	for u := range users {
		users[u] = fmt.Sprint(u)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(users[i%len(users)], "page", t0); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

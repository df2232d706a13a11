package browsertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestFindChromium(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := findChromium(exe); err != nil || got != exe {
		t.Errorf("findChromium(%q) = %q, %v", exe, got, err)
	}
	for _, p := range []string{plain, filepath.Join(dir, "missing"), dir} {
		_, err := findChromium(p)
		if !errors.Is(err, ErrNoChromium) || !strings.Contains(err.Error(), "apt-get install chromium") || !strings.Contains(err.Error(), p) {
			t.Errorf("findChromium(%q) error = %v, want ErrNoChromium naming the path", p, err)
		}
	}
}

func TestBrowser(t *testing.T) {
	b := New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("who"); err == nil {
			fmt.Fprintf(w, "<title>%s</title><script>console.log('hello from', document.title)</script>", c.Value)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		fmt.Fprint(w, "<title>new</title><script>throw new Error('boom')</script>")
	}))
	defer srv.Close()

	tab := b.Tab(t)
	log := WatchConsole(tab)
	title := func(ctx context.Context) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
			t.Fatal(err)
		}
		s, err := chromedp.Run(ctx, chromedp.Title())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := title(tab); got != "new" {
		t.Errorf("first visit: title %q, want new", got)
	}
	if got := title(b.Tab(t)); got != "first" {
		t.Errorf("another tab: title %q, want first (cookies shared)", got)
	}
	if got := title(b.Isolated(t)); got != "new" {
		t.Errorf("isolated tab: title %q, want new (cookies of its own)", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(log.Exceptions()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if ex := log.Exceptions(); len(ex) != 1 || !strings.Contains(ex[0].Text, "boom") {
		t.Errorf("exceptions = %v, want the one thrown", ex)
	}

	// Until sees what a page's script does later, inside a shadow root too.
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/shadow")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`setTimeout(() => {
		const host = document.createElement('x-host'); host.className = "it's";
		host.attachShadow({mode: 'open'}).append(Object.assign(document.createElement('b'), {textContent: 'later'}));
		document.body.append(host);
	}, 200)`)); err != nil {
		t.Fatal(err)
	}
	if err := Until(tab, InShadow(`x-host[class="it's"]`, "b")+"?.textContent === 'later'", 5*time.Second); err != nil {
		t.Error(err)
	}
	if err := Until(tab, "false", 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "waiting for false") {
		t.Errorf("Until(false) = %v, want a timeout naming the expression", err)
	}

	path := filepath.Join(t.TempDir(), "shot.png")
	if err := Screenshot(tab, path); err != nil {
		t.Fatal(err)
	}
	png, err := os.ReadFile(path)
	if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Errorf("screenshot: %d bytes, %v", len(png), err)
	}
}

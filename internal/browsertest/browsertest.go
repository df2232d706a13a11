package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Environment variables read by New.
const (
	// EnvChromium names the browser binary to use instead of the default.
	EnvChromium = "CLOCHE_TEST_CHROMIUM"
	// EnvRequireAll set to 1 turns "chromium not found" skips into failures.
	EnvRequireAll = "CLOCHE_TEST_REQUIRE_ALL"
	// DefaultChromium is where Debian's chromium package puts the browser.
	DefaultChromium = "/usr/bin/chromium"
)

// Flags are the switches chromium runs with, besides a fresh
// --user-data-dir and chromedp's own --remote-debugging-pipe: headless, no
// sandbox (tests run as root in containers), and nothing that reaches
// outside the machine.
var Flags = []string{
	"headless",
	"no-sandbox",
	"disable-gpu",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
	"no-first-run",
	"disable-quic",
}

// ErrNoChromium is the error of Chromium when no browser is found.
var ErrNoChromium = errors.New("chromium not found: apt-get install chromium")

// Chromium returns the path of the browser: $CLOCHE_TEST_CHROMIUM when
// set, else /usr/bin/chromium, else chromium on the PATH.
func Chromium() (string, error) {
	return findChromium(os.Getenv(EnvChromium))
}

func findChromium(override string) (string, error) {
	if override != "" {
		if isExecutable(override) {
			return override, nil
		}
		return "", fmt.Errorf("%w (%s=%s is not an executable file)", ErrNoChromium, EnvChromium, override)
	}
	if isExecutable(DefaultChromium) {
		return DefaultChromium, nil
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", ErrNoChromium
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// Browser is one headless chromium, for one test.
type Browser struct {
	ctx context.Context // the browser's first tab; its parent holds the process
}

// DefaultTimeout bounds each tab when the test has no deadline nearer.
const DefaultTimeout = 2 * time.Minute

// New starts chromium for t, with a fresh profile in a temporary folder,
// and stops it when t ends. Without chromium, t is skipped with the command
// that installs it, or fails when CLOCHE_TEST_REQUIRE_ALL=1. extra are
// more switches, "name" or "name=value", for the tests that need them.
func New(t testing.TB, extra ...string) *Browser {
	t.Helper()
	path, err := Chromium()
	if err != nil {
		if os.Getenv(EnvRequireAll) == "1" {
			t.Fatalf("%v (%s=1 makes this a failure)", err, EnvRequireAll)
		}
		t.Skipf("%v (%s=1 makes this a failure)", err, EnvRequireAll)
	}
	profile, err := os.MkdirTemp("", "cloche-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(profile)}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	for _, f := range extra {
		if name, value, ok := strings.Cut(f, "="); ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(f, true))
		}
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// chromium is gone once cancelAlloc returns; its profile may still
		// be settling on a slow disk.
		removeAll(profile)
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium (%s): %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// removeAll removes dir, retrying briefly while files still appear.
func removeAll(dir string) {
	for range 20 {
		err := os.RemoveAll(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Tab opens a tab sharing the browser's cookies (another tab of the same
// user), 1280×900, closed when t ends. Its context ends at the test's
// deadline, or after DefaultTimeout.
func (b *Browser) Tab(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	return b.open(t, ctx, cancel)
}

// Isolated opens a tab in a browser context of its own: its cookies and
// storage are not the other tabs' (another user, another browser).
func (b *Browser) Isolated(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	return b.open(t, ctx, cancel)
}

func (b *Browser) open(t testing.TB, ctx context.Context, cancel context.CancelFunc) context.Context {
	t.Helper()
	deadline := time.Now().Add(DefaultTimeout)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok && dl.Before(deadline) {
			deadline = dl.Add(-5 * time.Second)
		}
	}
	ctx, cancelTimeout := context.WithDeadline(ctx, deadline)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

// Screenshot saves the whole page of the tab as a PNG file at path.
func Screenshot(ctx context.Context, path string) error {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return os.WriteFile(path, png, 0o644)
}

// Until waits until the JavaScript expression expr is true in the tab,
// looking every 50 ms, for at most timeout. While expr throws (what it
// reads is not there yet), it is false.
func Until(ctx context.Context, expr string, timeout time.Duration) error {
	guarded := "(() => { try { return (" + expr + "); } catch { return false; } })()"
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](guarded, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", expr, err)
	}
	return nil
}

// InShadow is a JavaScript expression for the first element matching the
// CSS selector sel in the shadow root of the first element matching host
// (the inside of a custom element): InShadow("cloche-bell", ".badge").
func InShadow(host, sel string) string {
	return fmt.Sprintf("document.querySelector(%s).shadowRoot.querySelector(%s)", jsString(host), jsString(sel))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// ConsoleLog records what a tab writes to its console: calls of the
// console API, uncaught exceptions, entries of the browser log.
type ConsoleLog struct {
	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// WatchConsole starts recording the tab's console, until ctx ends.
func WatchConsole(ctx context.Context) *ConsoleLog {
	l := &ConsoleLog{}
	seq := chromedp.Console(ctx) // subscribed from here on
	go func() {
		for m, err := range seq {
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, m)
			l.mu.Unlock()
		}
	}()
	return l
}

// Messages returns what was recorded so far.
func (l *ConsoleLog) Messages() []chromedp.ConsoleMessage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), l.msgs...)
}

// Exceptions returns the uncaught exceptions recorded so far.
func (l *ConsoleLog) Exceptions() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range l.Messages() {
		if m.IsException() {
			out = append(out, m)
		}
	}
	return out
}

// Package browsertest runs Debian's chromium, headless, for tests that
// drive Cloche's pages through github.com/chromedp/chromedp.
//
// New starts one browser per test, with a fresh profile, and stops it when
// the test ends; Tab opens a tab in it and Isolated a tab with cookies of
// its own (another user). When chromium is not installed the test is
// skipped, with the command that installs it, or fails when
// CLOCHE_TEST_REQUIRE_ALL=1 (as in CI). CLOCHE_TEST_CHROMIUM names
// another binary.
package browsertest

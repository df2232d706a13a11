package cli

import (
	"strings"
	"testing"
)

// Variables that are not settings (README documents CLOCHE_SCREENSHOTS)
// do not break commands; a misspelt one is named with the nearest known.
func TestEnvironmentThatIsNotSettings(t *testing.T) {
	h := sqliteHarness(t)
	t.Parallel()
	h.env = append(h.env, "CLOCHE_SCREENSHOTS=1", "CLOCHE_TEST_REQUIRE_ALL=1", "CLOCHE_BENCH_STREAMS=10")
	h.ok("migrate")
	h.ok("types", "list")

	h.env = append(h.env, "CLOCHE_HTTP_ADRR=127.0.0.1:1")
	r := h.fails(1, []string{"types", "list"}, "environment variable CLOCHE_HTTP_ADRR", "did you mean CLOCHE_HTTP__ADDR?")
	if strings.Contains(r.stderr, "''") {
		t.Errorf("stderr names no source: %s", r.stderr)
	}
}

package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Commands that only read, or act on what is there, leave no empty
// database behind: they say there is none and how to create one.
func TestReadOnlyCommandsCreateNoDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "cloche.db")
	h := newHarness(t, db)
	commands := [][]string{
		{"inbox", "1"},
		{"inbox", "list", "1"},
		{"inbox", "read", "1", "5"},
		{"inbox", "unread", "1", "5"},
		{"inbox", "read-all", "1"},
		{"inbox", "postpone", "1", "5"},
		{"types", "list"},
		{"types", "delete", "message:internal"},
		{"events", "list"},
		{"events", "show", "1"},
		{"events", "cancel", "1"},
		{"deliveries", "list"},
		{"deliveries", "show", "1"},
		{"deliveries", "retry", "1"},
		{"directory", "show", "1"},
		{"apikey", "list"},
		{"apikey", "revoke", "1"},
		{"token", "mint", "1"},
		{"types", "list", "--json"},
	}
	for _, args := range commands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := h.run(args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{"cloche: no database at " + db, "cloche migrate", "--database-url"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, r.stderr)
				}
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s was created (stat: %v)", db, err)
			}
		})
	}
	// A command that writes creates it; then the reading ones work.
	h.ok("migrate")
	if _, err := os.Stat(db); err != nil {
		t.Fatal(err)
	}
	h.ok("types", "list")
	h.ok("inbox", "1")
}

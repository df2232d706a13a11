package web

import "testing"

// The console parses its pages in the background, off the start path:
// they must parse, or every page would answer 500.
func TestPagesParse(t *testing.T) {
	pages, err := parsePages((&Console{}).funcs())
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no pages")
	}
}

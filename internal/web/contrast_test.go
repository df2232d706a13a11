package web

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMarkLabelContrast checks, in the console's own CSS, that every
// status label drawn as white text on a coloured mark (.mark and each
// .mark-*) reaches the WCAG AA contrast of 4.5:1 for normal text.
func TestMarkLabelContrast(t *testing.T) {
	css := string(consoleCSS)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;`).FindAllStringSubmatch(css, -1) {
		vars[m[1]] = m[2]
	}
	rule := regexp.MustCompile(`(?m)^\s*([^{}/]+?)\s*\{([^}]*)\}`)
	decl := func(body, prop string) string {
		m := regexp.MustCompile(`(?:^|;)\s*` + prop + `\s*:\s*([^;]+)`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		v := strings.TrimSpace(m[1])
		if strings.HasPrefix(v, "var(") {
			v = vars[strings.TrimSuffix(strings.TrimPrefix(v, "var("), ")")]
		}
		return v
	}
	text := ""
	backgrounds := map[string]string{}
	for _, m := range rule.FindAllStringSubmatch(css, -1) {
		sel, body := m[1], m[2]
		switch {
		case sel == ".mark:not(:empty)":
			text = decl(body, "color")
		case sel == ".mark" || regexp.MustCompile(`^\.mark-[\w-]+$`).MatchString(sel):
			if bg := decl(body, "background"); bg != "" {
				backgrounds[sel] = bg
			}
		}
	}
	if text == "" || len(backgrounds) < 5 {
		t.Fatalf("found label text %q and backgrounds %v; the test no longer matches the CSS", text, backgrounds)
	}
	for sel, bg := range backgrounds {
		r, err := contrast(text, bg)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if r < 4.5 {
			t.Errorf("%s: text %s on %s has contrast %.2f:1, want at least 4.5:1", sel, text, bg, r)
		}
	}
}

// contrast is the WCAG 2 contrast ratio of two #rgb or #rrggbb colours.
func contrast(a, b string) (float64, error) {
	la, err := luminance(a)
	if err != nil {
		return 0, err
	}
	lb, err := luminance(b)
	if err != nil {
		return 0, err
	}
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05), nil
}

func luminance(hex string) (float64, error) {
	h := strings.TrimPrefix(strings.TrimSpace(hex), "#")
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil || len(h) != 6 {
		return 0, &strconv.NumError{Func: "luminance", Num: hex, Err: strconv.ErrSyntax}
	}
	lin := func(c uint64) float64 {
		v := float64(c) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n>>16&0xff) + 0.7152*lin(n>>8&0xff) + 0.0722*lin(n&0xff), nil
}

func TestContrastRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"#fff", "#000", 21},
		{"#ffffff", "#9aa3b2", 2.54},
		{"#fff", "#c98200", 3.15},
	}
	for _, tc := range tests {
		got, err := contrast(tc.a, tc.b)
		if err != nil || math.Abs(got-tc.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, %v; want %.2f", tc.a, tc.b, got, err, tc.want)
		}
	}
}

// TestStatusLabelContrast checks, in the console's own CSS, that every
// status label (.status, and each .status-* rule, whose selector may list
// several) draws its text colour on its background at WCAG AA's 4.5:1,
// and that every status the console shows has a rule.
func TestStatusLabelContrast(t *testing.T) {
	css := string(consoleCSS)
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;`).FindAllStringSubmatch(css, -1) {
		vars[m[1]] = m[2]
	}
	decl := func(body, prop string) string {
		m := regexp.MustCompile(`(?:^|;|\{)\s*` + prop + `\s*:\s*([^;]+)`).FindStringSubmatch(body)
		if m == nil {
			return ""
		}
		v := strings.TrimSpace(m[1])
		if strings.HasPrefix(v, "var(") {
			v = vars[strings.TrimSuffix(strings.TrimPrefix(v, "var("), ")")]
		}
		return v
	}
	base := struct{ fg, bg string }{}
	labels := map[string]struct{ fg, bg string }{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([^{}/]+?)\s*\{([^}]*)\}`).FindAllStringSubmatch(css, -1) {
		sels, body := m[1], m[2]
		for _, sel := range strings.Split(sels, ",") {
			sel = strings.TrimSpace(sel)
			switch {
			case sel == ".status":
				base.fg, base.bg = decl(body, "color"), decl(body, "background")
			case regexp.MustCompile(`^\.status-[\w-]+$`).MatchString(sel):
				labels[sel] = struct{ fg, bg string }{decl(body, "color"), decl(body, "background")}
			}
		}
	}
	if base.fg == "" || base.bg == "" {
		t.Fatalf(".status has colour %q on %q; the test no longer matches the CSS", base.fg, base.bg)
	}
	labels[".status"] = base
	var states []string
	for _, s := range eventStatuses {
		states = append(states, string(s))
	}
	for _, s := range deliveryStates {
		states = append(states, string(s))
	}
	for _, s := range states {
		if _, ok := labels[".status-"+s]; !ok {
			t.Errorf(".status-%s has no rule: the label falls back to .status", s)
		}
	}
	for sel, c := range labels {
		fg, bg := cmpOr(c.fg, base.fg), cmpOr(c.bg, base.bg)
		r, err := contrast(fg, bg)
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		if r < 4.5 {
			t.Errorf("%s: text %s on %s has contrast %.2f:1, want at least 4.5:1", sel, fg, bg, r)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

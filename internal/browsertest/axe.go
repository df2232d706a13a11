package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core 4.10.3, vendored from the npm registry (see
// testdata/README.md).
//
//go:embed testdata/axe.min.js
var axeSource string

// AxeVersion is the vendored axe-core's version.
const AxeVersion = "4.10.3"

// AxeViolation is one rule axe-core found broken, with the elements that
// break it.
type AxeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"` // minor, moderate, serious, critical
	Help   string `json:"help"`
	Nodes  []struct {
		Target         []any  `json:"target"` // selectors, an array of them through a shadow root
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

// Serious reports whether the violation is serious or critical.
func (v AxeViolation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		t, _ := json.Marshal(n.Target)
		fmt.Fprintf(&b, "\n    %s: %s", t, strings.ReplaceAll(n.FailureSummary, "\n", " "))
	}
	return b.String()
}

// Axe runs axe-core's WCAG 2.x A and AA rules (and its best practices),
// or only the given rules, on the tab's document, open shadow roots
// included, and returns the violations. The script is injected by the
// DevTools protocol, under no page's policy.
func Axe(ctx context.Context, rules ...string) ([]AxeViolation, error) {
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+"\n;typeof axe === 'object'")); err != nil {
		return nil, fmt.Errorf("axe: inject: %w", err)
	}
	only := `{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }`
	if len(rules) > 0 {
		b, _ := json.Marshal(rules)
		only = `{ type: 'rule', values: ` + string(b) + ` }`
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, { runOnly: `+only+`, resultTypes: ['violations'] })
		.then(r => JSON.stringify(r.violations))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: run: %w", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe: its answer: %w", err)
	}
	return vs, nil
}

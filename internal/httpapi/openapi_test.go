package httpapi

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The OpenAPI document describes exactly the routes the server registers
// (with a streamer and metrics, so that every optional route is there),
// and its references resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newHarness(t, testConfig("sqlite:"+t.TempDir()+"/c.db"), Options{Registry: prometheus.NewRegistry(), Streamer: &testStreamer{}})

	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{"GET /metrics": true}
	for _, rt := range h.srv.routes {
		registered[rt.pattern()] = true
	}
	for p := range registered {
		if !documented[p] {
			t.Errorf("route %s is registered but not documented", p)
		}
		// The router knows it too.
		method, path, _ := strings.Cut(p, " ")
		probe := strings.NewReplacer("{id}", "1", "{nid}", "2", "{key}", "k:x", "{name}", "g").Replace(path)
		r := h.do(req{method: method, path: probe})
		if r.status == 404 && strings.Contains(string(r.body), "no route") || r.status == 405 {
			t.Errorf("route %s (%s %s) not served: %d %s", p, method, probe, r.status, r.body)
		}
	}
	for p := range documented {
		if !registered[p] {
			t.Errorf("%s is documented but not registered", p)
		}
	}
}

func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					refs = append(refs, c.(string))
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	if len(refs) < 50 {
		t.Fatalf("only %d references", len(refs))
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("external reference %s", ref)
			continue
		}
		var cur any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[part]
		}
		if cur == nil {
			t.Errorf("reference %s does not resolve", ref)
		}
	}

	// Every {parameter} of a path is declared, and operation ids are unique.
	params := doc["components"].(map[string]any)["parameters"].(map[string]any)
	seen := map[string]bool{}
	brace := regexp.MustCompile(`\{(\w+)\}`)
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			o := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" || seen[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, path, id)
			}
			seen[id] = true
			var declared []string
			ps, _ := o["parameters"].([]any)
			for _, p := range ps {
				pm := p.(map[string]any)
				if r, ok := pm["$ref"].(string); ok {
					pm = params[strings.TrimPrefix(r, "#/components/parameters/")].(map[string]any)
				}
				if pm["in"] == "path" {
					declared = append(declared, pm["name"].(string))
				}
			}
			for _, m := range brace.FindAllStringSubmatch(path, -1) {
				if !slices.Contains(declared, m[1]) {
					t.Errorf("%s %s: path parameter %s is not declared", method, path, m[1])
				}
			}
			if _, ok := o["responses"].(map[string]any); !ok {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
}

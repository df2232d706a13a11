package email

import (
	"strings"
	"testing"
)

func TestSanitizeHTML(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"allowed subset kept", `<p>Hello <strong>you</strong>, <em>see</em> <a href="https://example.org/x?a=1&amp;b=2" title="T">this</a><br/>bye</p>`,
			`<p>Hello <strong>you</strong>, <em>see</em> <a href="https://example.org/x?a=1&amp;b=2" title="T">this</a><br>bye</p>`},
		{"lists", `<ul><li>one</li><li>two<ol><li>a</li></ol></li></ul>`, `<ul><li>one</li><li>two<ol><li>a</li></ol></li></ul>`},
		{"script dropped whole", `a<script>alert(1)</script>b`, `ab`},
		{"script self-closing still a script", `a<script/>alert(1)</script>b`, `ab`},
		{"style dropped whole", `<style>p{color:red}</style><p>x</p>`, `<p>x</p>`},
		{"nested svg script", `<svg><script>alert(1)</script><svg></svg></svg>after`, `after`},
		{"event handlers", `<p onclick="x()">t</p><img src=x onerror="alert(1)">`, `<p>t</p>`},
		{"unknown tags keep text", `<div class="a"><span style="color:red">red</span></div>`, `red`},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"encoded javascript link", `<a href="jav&#x61;script:alert(1)">x</a>`, `x`},
		{"tab in scheme", "<a href=\"java\tscript:alert(1)\">x</a>", `x`},
		{"upper case scheme", `<a href="JAVASCRIPT:alert(1)">x</a>`, `x`},
		{"leading space", `<a href="  javascript:alert(1)">x</a>`, `x`},
		{"data url", `<a href="data:text/html,<script>alert(1)</script>">x</a>`, `x`},
		{"relative link", `<a href="/admin">x</a>`, `x`},
		{"mailto kept", `<a href="mailto:a@example.org">write</a>`, `<a href="mailto:a@example.org">write</a>`},
		{"unclosed tags closed", `<p><strong>bold`, `<p><strong>bold</strong></p>`},
		{"stray end tags", `</p>x</strong>`, `x`},
		{"text escaped", `<p>1 &lt; 2 &amp; "q"</p>`, `<p>1 &lt; 2 &amp; &#34;q&#34;</p>`},
		{"comments dropped", `a<!-- <script>alert(1)</script> -->b`, `ab`},
		{"attribute quotes", `<a href="https://x.test/&quot;onmouseover=&quot;alert(1)">x</a>`, `<a href="https://x.test/%22onmouseover=%22alert%281%29">x</a>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := SanitizeHTML(tc.in)
			if got != tc.want {
				t.Errorf("SanitizeHTML(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			for _, bad := range []string{"<script", "onerror", "onclick", "javascript:", "style="} {
				if strings.Contains(strings.ToLower(got), bad) {
					t.Errorf("%q survived in %q", bad, got)
				}
			}
		})
	}
}

func TestIsHTML(t *testing.T) {
	cases := map[string]bool{
		"plain text":           false,
		"a < b and c > d":      false,
		"I <3 it":              false,
		"Hello <b>you</b>":     true,
		"line<br/>line":        true,
		"<custom>tag</custom>": false,
	}
	for in, want := range cases {
		if got := IsHTML(in); got != want {
			t.Errorf("IsHTML(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"paragraphs and breaks", "<p>One\n  two</p><p>Three<br>four</p>", "One two\n\nThree\nfour"},
		{"links kept as text", `<p>See <a href="https://example.org/i/42">the invoice</a>.</p>`, "See the invoice (https://example.org/i/42)."},
		{"link whose text is the url", `<a href="https://example.org">https://example.org</a>`, "https://example.org"},
		{"mailto", `Write to <a href="mailto:a@example.org">a@example.org</a> or <a href="mailto:b@example.org">Bob</a>`,
			"Write to a@example.org or Bob (b@example.org)"},
		{"lists", "<p>Items:</p><ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol><p>end</p>",
			"Items:\n\n- one\n- two\n\n1. first\n2. second\n\nend"},
		{"entities decoded", "<p>1 &lt; 2 &amp; caf&eacute;</p>", "1 < 2 & café"},
		{"emphasis is text", "<p><strong>Bold</strong> and <em>it</em></p>", "Bold and it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := HTMLToText(tc.in); got != tc.want {
				t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRenderBodyText(t *testing.T) {
	h, txt := RenderBody("Hello <you> & co,\r\nsee https://example.org/a?b=1.\n\nBye")
	wantHTML := "<p>Hello &lt;you&gt; &amp; co,<br>\nsee <a href=\"https://example.org/a?b=1\">https://example.org/a?b=1</a>.</p>\n<p>Bye</p>\n"
	if h != wantHTML {
		t.Errorf("html\n got %q\nwant %q", h, wantHTML)
	}
	if want := "Hello <you> & co,\nsee https://example.org/a?b=1.\n\nBye"; txt != want {
		t.Errorf("text\n got %q\nwant %q", txt, want)
	}
	h, txt = RenderBody(`<p>Hi <a href="https://x.test/">there</a></p><script>alert(1)</script>`)
	if h != `<p>Hi <a href="https://x.test/">there</a></p>` || txt != "Hi there (https://x.test/)" {
		t.Errorf("html body: %q / %q", h, txt)
	}
}

package email

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// sanitizeSeeds are hostile and malformed bodies; the fuzzers start from
// them (and from testdata/fuzz).
var sanitizeSeeds = []string{
	`<p>Hello <strong>you</strong>, <a href="https://example.org/x?a=1&amp;b=2" title="T">this</a><br/>bye</p>`,
	`<script>alert(1)</script><SCRIPT/x>alert(2)</SCRIPT><scr<script>ipt>alert(3)</script>`,
	`<a href="javascript:alert(1)">x</a><a href="jav&#x61;script:alert(1)">y</a><a href=" java	script:alert(1)">z</a>`,
	`<img src=x onerror=alert(1)><b onclick="alert(1)">bold</b><p style="x" onmouseover='y'>p</p>`,
	`<B/>0`, `<b/><i/><a href="https://x.example"/>`, `</>`, `<b></i></b>`, `<ul><li>one<li>two</ul>`,
	`<svg><script>alert(1)</script></svg><math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
	`<plaintext><b>never closed`, `<!-- <script>alert(1)</script> -->`, `<![CDATA[<script>]]>`,
	`<a href="mailto:x@example.org">mail</a><a href="https://a.example" href="javascript:x">two hrefs</a>`,
	`a < b & c > d`, `<3`, "<p>\x00</p>", `<a href=https://x.example>unquoted</a>`, `<p><p><p>`,
}

// checkSafe fails unless out is in the safe subset: only allowed
// elements, a link's href and title as its only attributes (an http,
// https or mailto href), no script, no on… attribute, no javascript: URL;
// and well formed: every element closed, in order, no empty end tag.
func checkSafe(t *testing.T, in, out string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%q sanitised to %q: "+format, append([]any{in, out}, args...)...)
	}
	low := strings.ToLower(out)
	if strings.Contains(low, "<script") {
		fail("a script")
	}
	if strings.Contains(out, "</>") {
		fail("an empty end tag")
	}
	var open []atom.Atom
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(open) > 0 {
				fail("%v left open", open)
			}
			return
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			fail("self-closing <%s/>", name)
		case html.StartTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			keep, ok := allowedTags[a]
			if !ok {
				fail("element <%s>", name)
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				key, val := string(k), strings.ToLower(strings.TrimSpace(string(v)))
				if strings.HasPrefix(key, "on") || !contains(keep, key) {
					fail("attribute %s", key)
				}
				if strings.Contains(val, "javascript:") {
					fail("a javascript: value")
				}
				if key == "href" && !(strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") || strings.HasPrefix(val, "mailto:")) {
					fail("href %q", val)
				}
			}
			if a != atom.Br {
				open = append(open, a)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if len(open) == 0 || open[len(open)-1] != a {
				fail("</%s> closes %v", name, open)
			}
			open = open[:len(open)-1]
		case html.CommentToken, html.DoctypeToken:
			fail("a comment or doctype")
		}
	}
}

// FuzzSanitizeHTML: whatever the body, the sanitised HTML is safe and
// well formed, and sanitising it again changes nothing.
func FuzzSanitizeHTML(f *testing.F) {
	for _, s := range sanitizeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out := SanitizeHTML(body)
		checkSafe(t, body, out)
		if again := SanitizeHTML(out); again != out {
			t.Fatalf("%q sanitised to %q, then to %q", body, out, again)
		}
	})
}

// FuzzRenderBody: both renderings of any body (HTML or plain text) are
// produced, and the HTML one is safe and well formed.
func FuzzRenderBody(f *testing.F) {
	for _, s := range append(sanitizeSeeds, "plain text\n\nwith https://example.org/a_(b) link", "x\r\ny") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		htmlPart, _ := RenderBody(body)
		checkSafe(t, body, htmlPart)
	})
}

package email

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A notification body is either plain text or HTML. HTML keeps only a safe
// subset: links (http, https, mailto), emphasis, lists, paragraphs and line
// breaks. Everything else loses its tags but keeps its text, except
// elements whose content is code or chrome (script, style, iframe…), which
// disappear whole. Attributes other than a link's href and title never
// survive, so neither do event handlers or inline styles.

// allowedTags are kept, with the attributes listed.
var allowedTags = map[atom.Atom][]string{
	atom.A:      {"href", "title"},
	atom.P:      nil,
	atom.Br:     nil,
	atom.Em:     nil,
	atom.I:      nil,
	atom.Strong: nil,
	atom.B:      nil,
	atom.U:      nil,
	atom.Ul:     nil,
	atom.Ol:     nil,
	atom.Li:     nil,
}

// droppedWhole are removed with everything inside them.
var droppedWhole = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Applet: true, atom.Noscript: true, atom.Noembed: true, atom.Noframes: true, atom.Template: true,
	atom.Textarea: true, atom.Select: true, atom.Svg: true, atom.Math: true, atom.Head: true,
	atom.Title: true, atom.Xmp: true, atom.Plaintext: true, atom.Frameset: true, atom.Canvas: true,
	atom.Audio: true, atom.Video: true,
}

// allowedSchemes are the link targets that survive.
var allowedSchemes = map[string]bool{"http": true, "https": true, "mailto": true}

// IsHTML reports whether body is written in HTML: whether it holds at least
// one tag of a known HTML element. "a < b" and "<3" are text.
func IsHTML(body string) bool {
	if !strings.Contains(body, "<") {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if atom.Lookup(name) != 0 {
				return true
			}
		}
	}
}

// SanitizeHTML returns the safe subset of an HTML body, well formed: every
// kept element is closed.
func SanitizeHTML(body string) string {
	var (
		out      strings.Builder
		open     []atom.Atom // kept elements not closed yet
		skip     atom.Atom   // inside an element dropped whole
		skipping int         // nesting of skip inside itself
	)
	out.Grow(len(body))
	z := html.NewTokenizer(strings.NewReader(body))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] != 0 { // 0: a link dropped for want of a safe target
					out.WriteString("</" + open[i].String() + ">")
				}
			}
			return out.String()
		case html.TextToken:
			if skipping == 0 {
				out.WriteString(html.EscapeString(string(z.Text())))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if skipping > 0 {
				if a == skip {
					skipping++
				}
				continue
			}
			if droppedWhole[a] {
				// As browsers do, "<script/>" opens a script all the same;
				// everything after <plaintext> is its content.
				skip, skipping = a, 1
				continue
			}
			keep, ok := allowedTags[a]
			if !ok {
				continue
			}
			attrs := keptAttributes(z, hasAttr, keep)
			if a == atom.A && attrs == "" {
				// A link without a safe target is its text only; remember
				// it so that its end tag is dropped too.
				open = append(open, 0)
				continue
			}
			out.WriteString("<" + a.String() + attrs + ">")
			// "<b/>" opens a b all the same, as browsers read it: only
			// void elements (br) have no end.
			if a != atom.Br {
				open = append(open, a)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if skipping > 0 {
				if a == skip {
					skipping--
				}
				continue
			}
			if _, ok := allowedTags[a]; !ok || a == atom.Br {
				continue
			}
			// Close up to the matching open element, if there is one.
			i := len(open) - 1
			for i >= 0 && open[i] != a && !(a == atom.A && open[i] == 0) {
				i--
			}
			if i < 0 {
				continue
			}
			for j := len(open) - 1; j >= i; j-- {
				if open[j] != 0 {
					out.WriteString("</" + open[j].String() + ">")
				}
			}
			open = open[:i]
		}
		// Comments and doctypes are dropped.
	}
}

// keptAttributes returns the allowed attributes of the current tag, each
// ` name="escaped value"`; a link keeps its href only when it is safe and
// is dropped (empty result) without one.
func keptAttributes(z *html.Tokenizer, hasAttr bool, keep []string) string {
	var b strings.Builder
	href := false
	for hasAttr {
		var key, val []byte
		key, val, hasAttr = z.TagAttr()
		k := string(key)
		if !contains(keep, k) {
			continue
		}
		v := string(val)
		if k == "href" {
			safe, ok := safeURL(v)
			if !ok || href {
				continue
			}
			v, href = safe, true
		}
		b.WriteString(" " + k + `="` + html.EscapeString(v) + `"`)
	}
	if contains(keep, "href") && !href {
		return ""
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// safeURL returns u when it is an absolute http, https or mailto URL. The
// tokenizer has already decoded character references, so "jav&#x61;script:"
// arrives here as "javascript:"; control characters and spaces inside the
// scheme, which browsers ignore, make the URL unparsable and so unsafe.
func safeURL(u string) (string, bool) {
	u = strings.TrimFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	p, err := url.Parse(u)
	if err != nil || !allowedSchemes[strings.ToLower(p.Scheme)] {
		return "", false
	}
	if p.Scheme != "mailto" && p.Host == "" {
		return "", false
	}
	return p.String(), true
}

// linkPattern finds web addresses in plain text bodies.
var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]'»]`)

// TextToHTML turns a plain text body into HTML: escaped, paragraphs at
// blank lines, line breaks kept, web addresses made links.
func TextToHTML(body string) string {
	body = strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	if body == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range regexp.MustCompile(`\n\s*\n`).Split(body, -1) {
		b.WriteString("<p>")
		for i, line := range strings.Split(strings.TrimSpace(para), "\n") {
			if i > 0 {
				b.WriteString("<br>\n")
			}
			last := 0
			for _, m := range linkPattern.FindAllStringIndex(line, -1) {
				b.WriteString(html.EscapeString(line[last:m[0]]))
				if u, ok := safeURL(line[m[0]:m[1]]); ok {
					b.WriteString(`<a href="` + html.EscapeString(u) + `">` + html.EscapeString(line[m[0]:m[1]]) + `</a>`)
				} else {
					b.WriteString(html.EscapeString(line[m[0]:m[1]]))
				}
				last = m[1]
			}
			b.WriteString(html.EscapeString(line[last:]))
		}
		b.WriteString("</p>\n")
	}
	return b.String()
}

// HTMLToText renders sanitised HTML as plain text: paragraphs separated by
// a blank line, line breaks kept, list items as "- " or "1. ", links as
// "text (url)" (the url alone when it is the text).
func HTMLToText(s string) string {
	var (
		b     strings.Builder
		lists []int // per open list: 0 for ul, else the next number of an ol
		links []string
		start []int // where each open link's text begins in b
	)
	newline := func(n int) {
		t := b.String()
		have := len(t) - len(strings.TrimRight(t, "\n"))
		if len(strings.TrimSpace(t)) == 0 {
			return
		}
		for ; have < n; have++ {
			b.WriteByte('\n')
		}
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return tidyText(b.String())
		case html.TextToken:
			text := collapseSpace(string(z.Text()))
			t := b.String()
			if strings.HasSuffix(t, "\n") || t == "" || strings.HasSuffix(t, " ") {
				text = strings.TrimLeft(text, " ")
			}
			b.WriteString(text)
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch atom.Lookup(name) {
			case atom.P:
				newline(2)
			case atom.Br:
				trimTrailingSpace(&b)
				b.WriteByte('\n')
			case atom.Ul:
				newline(1)
				lists = append(lists, 0)
			case atom.Ol:
				newline(1)
				lists = append(lists, 1)
			case atom.Li:
				newline(1)
				b.WriteString(strings.Repeat("  ", max(len(lists)-1, 0)))
				if n := len(lists); n > 0 && lists[n-1] > 0 {
					b.WriteString(strconv.Itoa(lists[n-1]) + ". ")
					lists[n-1]++
				} else {
					b.WriteString("- ")
				}
			case atom.A:
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
				links, start = append(links, href), append(start, b.Len())
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.P:
				newline(2)
			case atom.Ul, atom.Ol:
				if len(lists) > 0 {
					lists = lists[:len(lists)-1]
				}
				newline(2)
			case atom.A:
				if n := len(links); n > 0 {
					href, from := links[n-1], start[n-1]
					links, start = links[:n-1], start[:n-1]
					text := strings.TrimSpace(b.String()[from:])
					shown := strings.TrimPrefix(href, "mailto:")
					switch {
					case href == "":
					case text == "":
						b.WriteString(shown)
					case text != href && text != shown:
						b.WriteString(" (" + shown + ")")
					}
				}
			}
		}
	}
}

// collapseSpace turns each run of white space into one space, as HTML
// rendering does.
func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

func trimTrailingSpace(b *strings.Builder) {
	t := b.String()
	if u := strings.TrimRight(t, " "); len(u) != len(t) {
		b.Reset()
		b.WriteString(u)
	}
}

// tidyText trims each line's end and keeps at most one blank line in a row.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := make([]string, 0, len(lines))
	blank := false
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// RenderBody returns the HTML and plain text forms of a notification body,
// from the same source: a sanitised HTML body and its text rendering, or a
// plain text body and its HTML rendering.
func RenderBody(body string) (htmlPart, textPart string) {
	if IsHTML(body) {
		safe := SanitizeHTML(body)
		return safe, HTMLToText(safe)
	}
	text := strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n"))
	return TextToHTML(body), text
}

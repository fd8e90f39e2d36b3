package okta

import (
	"net/http"
	"strings"
)

// Link is one RFC 8288 link: a target URI and its parameters.
type Link struct {
	// URL is the target exactly as sent, not yet resolved or checked.
	URL string
	// Rels are the lower-cased relation types of the rel parameter (it may list several).
	Rels []string
	// Params holds the other parameters by lower-cased name (first occurrence wins).
	Params map[string]string
}

// HasRel reports whether the link carries relation type rel (case-insensitive).
func (l Link) HasRel(rel string) bool {
	for _, r := range l.Rels {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// Links is a parsed set of Link header values.
type Links []Link

// ParseLinks parses every Link header line of h. Okta sends one link per header line; lines that
// join several links with commas (as proxies and some servers do) are split correctly, including
// commas inside quoted parameters or URLs.
func ParseLinks(h http.Header) Links {
	return ParseLinkValues(h.Values("Link"))
}

// ParseLinkValues parses Link header field values. Malformed links are skipped, never guessed.
func ParseLinkValues(values []string) Links {
	var out Links
	for _, v := range values {
		p := linkParser{s: v}
		out = p.parse(out)
	}
	return out
}

// Rel returns the URL of the first link with the given relation type.
func (ls Links) Rel(rel string) (string, bool) {
	for _, l := range ls {
		if l.HasRel(rel) {
			return l.URL, true
		}
	}
	return "", false
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) parse(out Links) Links {
	for {
		p.skip(" \t,")
		if p.i >= len(p.s) {
			return out
		}
		if p.s[p.i] != '<' {
			p.skipLink()
			continue
		}
		end := strings.IndexByte(p.s[p.i+1:], '>')
		if end < 0 {
			return out
		}
		l := Link{URL: strings.TrimSpace(p.s[p.i+1 : p.i+1+end])}
		p.i += end + 2
		ok := p.params(&l)
		if ok && l.URL != "" {
			out = append(out, l)
		}
		if !ok {
			p.skipLink()
		}
	}
}

// params reads ";name=value" pairs up to the next link separator; false means malformed.
func (p *linkParser) params(l *Link) bool {
	for {
		p.skip(" \t")
		if p.i >= len(p.s) || p.s[p.i] == ',' {
			return true
		}
		if p.s[p.i] != ';' {
			return false
		}
		p.i++
		p.skip(" \t")
		name := strings.ToLower(p.token())
		if name == "" {
			return false
		}
		p.skip(" \t")
		var val string
		if p.i < len(p.s) && p.s[p.i] == '=' {
			p.i++
			p.skip(" \t")
			if p.i < len(p.s) && p.s[p.i] == '"' {
				var ok bool
				if val, ok = p.quoted(); !ok {
					return false
				}
			} else {
				val = p.token()
			}
		}
		if name == "rel" {
			if l.Rels == nil {
				l.Rels = strings.Fields(strings.ToLower(val))
			}
			continue
		}
		if l.Params == nil {
			l.Params = map[string]string{}
		}
		if _, seen := l.Params[name]; !seen {
			l.Params[name] = val
		}
	}
}

func (p *linkParser) token() string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(" \t;,=\"<>", rune(p.s[p.i])) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *linkParser) quoted() (string, bool) {
	var b strings.Builder
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '\\':
			if p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
			}
		case '"':
			p.i++
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

func (p *linkParser) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

// skipLink moves past the rest of a malformed link to the next top-level comma.
func (p *linkParser) skipLink() {
	inQuote, inURL := false, false
	for ; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; {
		case c == '\\' && inQuote:
			p.i++
		case c == '"' && !inURL:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inURL = true
		case c == '>' && !inQuote:
			inURL = false
		case c == ',' && !inQuote && !inURL:
			p.i++
			return
		}
	}
}

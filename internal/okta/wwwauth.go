package okta

import "strings"

// Challenge is one WWW-Authenticate challenge: an auth scheme and its parameters.
type Challenge struct {
	// Scheme is the auth scheme as sent (DPoP, Bearer, ...).
	Scheme string
	// Params holds the auth-params by lower-cased name.
	Params map[string]string
}

// ParseChallenges parses WWW-Authenticate header values (RFC 9110 §11.6.1). A server may send a
// Bearer and a DPoP challenge in one value, so parameters are kept with their own scheme.
func ParseChallenges(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := linkParser{s: v}
		for {
			p.skip(" \t,")
			if p.i >= len(p.s) {
				break
			}
			scheme := p.token()
			if scheme == "" {
				p.i++ // a stray delimiter: skip it rather than loop
				continue
			}
			ch := Challenge{Scheme: scheme, Params: map[string]string{}}
			p.authParams(&ch)
			out = append(out, ch)
		}
	}
	return out
}

// authParams reads name=value pairs until the next token that starts a new challenge.
func (p *linkParser) authParams(ch *Challenge) {
	for {
		p.skip(" \t,")
		start := p.i
		name := p.token()
		if name == "" {
			if p.i < len(p.s) && p.s[p.i] != '=' {
				p.i++
				continue
			}
			return
		}
		p.skip(" \t")
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			// token68 or the next challenge's scheme: rewind and let the caller decide.
			if len(ch.Params) == 0 && p.i >= len(p.s) {
				return
			}
			p.i = start
			return
		}
		p.i++
		p.skip(" \t")
		var val string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			v, ok := p.quoted()
			if !ok {
				p.i = len(p.s)
				return
			}
			val = v
		} else {
			val = p.token()
			// token68 values may end in '=' padding.
			for p.i < len(p.s) && p.s[p.i] == '=' {
				p.i++
			}
		}
		key := strings.ToLower(name)
		if _, seen := ch.Params[key]; !seen {
			ch.Params[key] = val
		}
	}
}

// challengeError returns the first challenge that carries an error parameter, preferring DPoP.
func challengeError(chs []Challenge) (Challenge, bool) {
	var found *Challenge
	for i := range chs {
		if chs[i].Params["error"] == "" {
			continue
		}
		if strings.EqualFold(chs[i].Scheme, "DPoP") {
			return chs[i], true
		}
		if found == nil {
			found = &chs[i]
		}
	}
	if found != nil {
		return *found, true
	}
	return Challenge{}, false
}

package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// params reads a request's query string: unknown parameters are refused (a misspelt filter
// would otherwise silently match everything), and the first bad value is kept as the error.
type params struct {
	v   url.Values
	err error
}

// readParams checks that the query names only the allowed parameters.
func readParams(r *http.Request, allowed ...string) (*params, error) {
	v := r.URL.Query()
	for k := range v {
		if !slices.Contains(allowed, k) {
			slices.Sort(allowed)
			return nil, Fail(http.StatusBadRequest, CodeInvalidField, fmt.Sprintf("unknown query parameter %q", k),
				"use only "+strings.Join(allowed, ", "), k)
		}
	}
	return &params{v: v}, nil
}

func (p *params) fail(name, message, fix string) {
	if p.err == nil {
		p.err = Fail(http.StatusBadRequest, CodeInvalidField, message, fix, name)
	}
}

// str is a single-valued parameter.
func (p *params) str(name string) string {
	if vs := p.v[name]; len(vs) > 1 {
		p.fail(name, fmt.Sprintf("%s is given %d times", name, len(vs)), "give "+name+" once")
	}
	return strings.TrimSpace(p.v.Get(name))
}

// list is a parameter that may repeat and takes comma-separated values.
func (p *params) list(name string) []string {
	var out []string
	for _, v := range p.v[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// oneOf is a single value from choices, def when absent.
func (p *params) oneOf(name, def string, choices ...string) string {
	v := p.str(name)
	if v == "" {
		return def
	}
	if !slices.Contains(choices, v) {
		p.fail(name, fmt.Sprintf("%s %q is not one of %s", name, v, strings.Join(choices, ", ")), "use one of "+strings.Join(choices, ", "))
	}
	return v
}

// time is an RFC 3339 time (zero when absent).
func (p *params) time(name string) time.Time {
	v := p.str(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.fail(name, fmt.Sprintf("%s %q is not an RFC 3339 time", name, v), "write it like 2026-03-01T00:00:00Z")
	}
	return t
}

// intIn is an integer in [lo, hi], def when absent.
func (p *params) intIn(name string, def, lo, hi int) int {
	v := p.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Sprintf("%s %q is not a number from %d to %d", name, v, lo, hi), fmt.Sprintf("pass e.g. %s=%d", name, def))
	}
	return n
}

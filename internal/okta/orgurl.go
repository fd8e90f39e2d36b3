package okta

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// oktaDomains are the parent domains of Okta-hosted orgs (commercial, EMEA, preview, government).
var oktaDomains = []string{"okta.com", "okta-emea.com", "oktapreview.com", "okta-gov.com", "okta.mil", "okta-miltest.com", "trex-gov.com"}

// OrgURL is a validated Okta org base URL: scheme and lower-case host (and port) only.
type OrgURL struct {
	u *url.URL
}

// ParseOrgURL validates an org URL as a user typed it. Okta-hosted domains are accepted; any other
// host must be listed in customDomains (a custom URL domain such as login.acme.com). Loopback
// addresses (127.0.0.0/8, ::1, localhost) are accepted over http or https, for oktasim. Every
// error says what to type instead.
func ParseOrgURL(raw string, customDomains ...string) (OrgURL, error) {
	return parseOrgURL(raw, false, customDomains)
}

// ParseCustomDomainOrgURL validates an org URL the user declared to be a custom URL domain (the
// --custom-domain flag): any host is accepted, with every other rule of ParseOrgURL (https only,
// no user info, path or query; plain http only on loopback). That the host really serves an Okta
// org is for the org identity check (FetchOrganization) to confirm.
func ParseCustomDomainOrgURL(raw string) (OrgURL, error) {
	return parseOrgURL(raw, true, nil)
}

func parseOrgURL(raw string, anyHost bool, customDomains []string) (OrgURL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return OrgURL{}, errors.New("org URL is empty; type your Okta domain, e.g. https://acme.okta.com")
	}
	if strings.ContainsAny(s, "{}") {
		return OrgURL{}, errors.New("org URL still holds the {yourOktaDomain} placeholder; replace it with your org's domain, e.g. https://acme.okta.com")
	}
	if !strings.Contains(s, "://") {
		return OrgURL{}, fmt.Errorf("org URL %q has no scheme; type https://%s", s, strings.TrimSuffix(s, "/"))
	}
	if strings.Count(s, "://") > 1 {
		return OrgURL{}, fmt.Errorf("org URL %q contains more than one scheme; type only https://<your-org>.okta.com", s)
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return OrgURL{}, fmt.Errorf("org URL %q does not parse as a URL; type it as https://<your-org>.okta.com", s)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return OrgURL{}, fmt.Errorf("org URL %q has no host name; type it as https://<your-org>.okta.com", s)
	}
	suggestion := "https://" + host
	if u.User != nil {
		return OrgURL{}, fmt.Errorf("org URL must not contain user info; type %s and give credentials separately", suggestion)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return OrgURL{}, fmt.Errorf("org URL %q has a path, query or fragment; type only the origin, %s", s, suggestion)
	}
	loopback := isLoopbackHost(host)
	switch {
	case scheme == "https":
	case scheme == "http" && loopback:
	case scheme == "http":
		return OrgURL{}, fmt.Errorf("org URL must use https (plain http is accepted only for loopback test servers); type %s", suggestion)
	default:
		return OrgURL{}, fmt.Errorf("org URL scheme %q is not supported; type %s", u.Scheme, suggestion)
	}
	if strings.HasSuffix(host, ".com.com") {
		return OrgURL{}, fmt.Errorf("org URL host %q ends in .com.com; type %s", host, "https://"+strings.TrimSuffix(host, ".com"))
	}
	if !loopback && !anyHost {
		if err := checkHost(host, customDomains); err != nil {
			return OrgURL{}, err
		}
	}
	return OrgURL{u: &url.URL{Scheme: scheme, Host: canonicalHost(&url.URL{Scheme: scheme, Host: u.Host})}}, nil
}

func checkHost(host string, customDomains []string) error {
	for _, d := range oktaDomains {
		if !strings.HasSuffix(host, "."+d) {
			continue
		}
		tenant := strings.TrimSuffix(host, "."+d)
		if strings.HasSuffix(tenant, "-admin") {
			return fmt.Errorf("org URL %q is the admin console host; type https://%s.%s (without -admin)", host, strings.TrimSuffix(tenant, "-admin"), d)
		}
		if tenant == "" || strings.HasPrefix(tenant, ".") || strings.Contains(tenant, "..") {
			return fmt.Errorf("org URL host %q has no org name; type https://<your-org>.%s", host, d)
		}
		return nil
	}
	for _, d := range customDomains {
		if strings.EqualFold(strings.TrimSuffix(strings.TrimSpace(d), "."), host) {
			return nil
		}
	}
	for _, d := range oktaDomains {
		if host == d {
			return fmt.Errorf("org URL %q lacks your org name; type https://<your-org>.%s", host, d)
		}
	}
	return fmt.Errorf("org URL host %q is not an Okta domain (*.okta.com, *.okta-emea.com, *.oktapreview.com, *.okta-gov.com, *.okta.mil, *.okta-miltest.com, *.trex-gov.com); type your https://<your-org>.okta.com domain, or, if %s is your org's custom URL domain, add --custom-domain", host, host)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// String returns the org URL without a trailing slash, e.g. https://acme.okta.com.
func (o OrgURL) String() string {
	if o.u == nil {
		return ""
	}
	return o.u.String()
}

// Hostname returns the host without the port (and without brackets for IPv6).
func (o OrgURL) Hostname() string {
	if o.u == nil {
		return ""
	}
	return o.u.Hostname()
}

// IsZero reports whether o is the zero OrgURL.
func (o OrgURL) IsZero() bool { return o.u == nil }

// Host returns the host and port (when not default).
func (o OrgURL) Host() string { return o.u.Host }

// URL returns a copy of the org URL with the given path and query.
func (o OrgURL) URL(path string, query url.Values) *url.URL {
	u := *o.u
	u.Path = path
	if query != nil {
		u.RawQuery = query.Encode()
	}
	return &u
}

// SameOrigin reports whether u has the org's scheme, host and port. It is the guard every
// server-supplied URL (a Link next, a stored cursor) passes before it is requested.
func (o OrgURL) SameOrigin(u *url.URL) bool {
	if u == nil || o.u == nil || u.User != nil || u.Opaque != "" {
		return false
	}
	return strings.EqualFold(u.Scheme, o.u.Scheme) && strings.EqualFold(canonicalHost(u), o.u.Host)
}

// Resolve parses a server-supplied URL and checks that it stays on the org's origin.
func (o OrgURL) Resolve(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("link %q is not a URL", truncate(raw, 200))
	}
	if !u.IsAbs() {
		u = o.u.ResolveReference(u)
	}
	if !o.SameOrigin(u) {
		return nil, &OriginError{URL: truncate(raw, 200), Org: o.String()}
	}
	u.Host = o.u.Host
	u.Scheme = o.u.Scheme
	return u, nil
}

// OriginError reports a server-supplied URL that leaves the org's origin; it is never followed.
type OriginError struct {
	URL string
	Org string
}

// Error names the refused URL and the org origin.
func (e *OriginError) Error() string {
	return fmt.Sprintf("refusing to follow %q: it leaves the org origin %s (a proxy or the server sent a foreign Link)", e.URL, e.Org)
}

// canonicalHost lower-cases the host and drops a default port.
func canonicalHost(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	p := u.Port()
	if p == "" || (strings.EqualFold(u.Scheme, "https") && p == "443") || (strings.EqualFold(u.Scheme, "http") && p == "80") {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

package oktasim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
)

// orgIDAlphabet is the alphabet of the 17 characters after an Okta id's three-character prefix.
const orgIDAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// derivedOrgID is the org id of a simulated org that names none: the same seed and org URL give
// the same id, so a restarted simulation is the same org, and two simulations on different URLs
// are different orgs.
func derivedOrgID(seed int64, orgURL string) string {
	h := sha256.New()
	_ = binary.Write(h, binary.BigEndian, seed)
	h.Write([]byte(strings.ToLower(strings.TrimSuffix(orgURL, "/"))))
	sum := h.Sum(nil)
	var b strings.Builder
	b.WriteString("00o")
	for i := 0; i < 17; i++ {
		b.WriteByte(orgIDAlphabet[int(sum[i])%len(orgIDAlphabet)])
	}
	return b.String()
}

// validOrgID reports whether id looks like an Okta org id: 00o and 17 letters or digits.
func validOrgID(id string) bool {
	if len(id) != 20 || !strings.HasPrefix(id, "00o") {
		return false
	}
	for _, c := range id[3:] {
		if !strings.ContainsRune(orgIDAlphabet, c) {
			return false
		}
	}
	return true
}

// checkCustomDomains validates custom URL domains: https origins with no path.
func checkCustomDomains(domains []string) error {
	for _, d := range domains {
		if _, _, err := parseAdvertisedOrgURL(d); err != nil {
			return fmt.Errorf("custom domain: %w", err)
		}
	}
	return nil
}

// OrgID returns the org's id, which GET /.well-known/okta-organization publishes.
func (s *Server) OrgID() string { return s.orgID }

// registerWellKnown adds the public org metadata endpoint.
func (s *Server) registerWellKnown() {
	s.HandlePublic(http.MethodGet, "/.well-known/okta-organization", s.handleOrgMetadata)
}

// orgLink is a HAL link of the org metadata.
type orgLink struct {
	Href string `json:"href"`
}

// orgMetadata is the body of GET /.well-known/okta-organization.
type orgMetadata struct {
	ID       string             `json:"id"`
	Pipeline string             `json:"pipeline"`
	Settings map[string]bool    `json:"settings"`
	Links    map[string]orgLink `json:"_links"`
}

// handleOrgMetadata serves GET /.well-known/okta-organization: the org's id, its Okta domain
// (organization) and, when it has one, its custom URL domain (alternate). Okta answers it the same
// on the Okta domain and on every custom domain, without credentials.
func (s *Server) handleOrgMetadata(w http.ResponseWriter, r *http.Request) {
	org := s.cfg.OrgURL
	if org == "" {
		org = s.baseURL(r)
	}
	links := map[string]orgLink{"organization": {Href: strings.TrimSuffix(org, "/")}}
	if len(s.cfg.CustomDomains) > 0 {
		alt, _, _ := parseAdvertisedOrgURL(s.cfg.CustomDomains[0]) // Validate checked it
		links["alternate"] = orgLink{Href: alt}
	}
	writeJSON(w, http.StatusOK, orgMetadata{ID: s.orgID, Pipeline: "idx",
		Settings: map[string]bool{"analyticsCollectionEnabled": false, "bugReportingEnabled": true, "omEnabled": false},
		Links:    links})
}

// customDomainOf returns the custom domain origin a request was addressed to, or "": a request
// through a custom URL domain is answered with links on that domain, as Okta does.
func (s *Server) customDomainOf(r *http.Request) string {
	for _, d := range s.cfg.CustomDomains {
		origin, host, _ := parseAdvertisedOrgURL(d) // Validate checked it
		if strings.EqualFold(r.Host, strings.TrimPrefix(origin, "https://")) || strings.EqualFold(r.Host, host) {
			return origin
		}
	}
	return ""
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/idwatch/idwatch/internal/collect"
	"github.com/idwatch/idwatch/internal/feature"
	"github.com/idwatch/idwatch/internal/okta"
	"github.com/idwatch/idwatch/internal/secret"
	"github.com/idwatch/idwatch/internal/store"
)

// IntegrationView is an integration as the API shows it: everything but its secrets.
type IntegrationView struct {
	ID           int64          `json:"id"`
	Name         string         `json:"name"`
	OrgURL       string         `json:"orgUrl"`
	OrgID        string         `json:"orgId,omitempty"`
	CustomDomain bool           `json:"customDomain"`
	AuthKind     store.AuthKind `json:"authKind"`
	ClientID     string         `json:"clientId,omitempty"`
	KeyID        string         `json:"keyId,omitempty"`
	Scopes       []string       `json:"scopes,omitempty"`
	Features     []string       `json:"features"`
	Enabled      bool           `json:"enabled"`
	State        string         `json:"state"`
	// LastEventAt is the newest collected event's published time (null: none yet).
	LastEventAt *time.Time `json:"lastEventAt"`
	LagSeconds  float64    `json:"lagSeconds"`
	// EventsPerMinute is measured between this server's looks at the totals (null until known).
	EventsPerMinute *float64 `json:"eventsPerMinute"`
	EventsCollected int64    `json:"eventsCollected"`
	Requests        int64    `json:"requests"`
	RateLimited     int64    `json:"rateLimited"`
	BudgetShareUsed float64  `json:"budgetShareUsed"`
	// LastError is why the integration is degraded or in error, with its fix.
	LastError *Problem  `json:"lastError,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Problem is a reason with what to do about it.
type Problem struct {
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
}

// view builds what the API shows of in and its health.
func (s *Server) view(in store.Integration, h *store.Health) IntegrationView {
	v := IntegrationView{ID: in.ID, Name: in.Name, OrgURL: in.OrgURL, OrgID: in.OrgID, CustomDomain: in.CustomDomain, AuthKind: in.AuthKind,
		ClientID: in.ClientID, KeyID: in.KeyID, Scopes: in.Scopes, Features: in.Features, Enabled: in.Enabled,
		State: string(store.HealthPending), CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
	if v.Features == nil {
		v.Features = []string{}
	}
	now := s.now()
	if h != nil {
		v.State, v.LagSeconds = string(h.State), h.LagAt(now).Seconds()
		v.EventsCollected, v.Requests, v.BudgetShareUsed = h.EventsCollected, h.RequestsMade, h.BudgetShareUsed
		if !h.LastEventAt.IsZero() {
			t := h.LastEventAt.UTC()
			v.LastEventAt = &t
		}
		if h.Reason != "" {
			v.LastError = &Problem{Reason: h.Reason, Fix: h.Fix}
		}
		v.EventsPerMinute = s.rates.observe(in.ID, h.EventsCollected, now)
	}
	if !in.Enabled {
		v.State = string(store.HealthDisabled)
	}
	if in.CredentialsError != "" {
		v.State, v.LastError = string(store.HealthError), &Problem{Reason: in.CredentialsError, Fix: store.CredentialsFix(in.Name)}
	}
	v.RateLimited = s.rateLimited(in)
	return v
}

// rateLimited is the 429s the org's governor counted in this process.
func (s *Server) rateLimited(in store.Integration) int64 {
	if s.clients == nil || s.clients.Governors == nil {
		return 0
	}
	org, err := okta.ParseCustomDomainOrgURL(in.OrgURL)
	if err != nil {
		return 0
	}
	var n int64
	for _, b := range s.clients.Governors.For(org).Stats().Buckets {
		n += b.RateLimited
	}
	return n
}

// responsesByClass counts the org's Okta answers by status class (index 0: no answer, 2: 2xx …).
func (s *Server) responsesByClass(in store.Integration) [6]int64 {
	var n [6]int64
	if s.clients == nil || s.clients.Governors == nil {
		return n
	}
	org, err := okta.ParseCustomDomainOrgURL(in.OrgURL)
	if err != nil {
		return n
	}
	for _, b := range s.clients.Governors.For(org).Stats().Buckets {
		for i, c := range b.ByStatus {
			n[i] += c
		}
	}
	return n
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) error {
	ins, err := s.st.ListIntegrations(r.Context())
	if err != nil {
		return err
	}
	hs, err := s.st.ListHealth(r.Context())
	if err != nil {
		return err
	}
	byID := map[int64]*store.Health{}
	for i := range hs {
		byID[hs[i].IntegrationID] = &hs[i]
	}
	out := make([]IntegrationView, 0, len(ins))
	for _, in := range ins {
		out = append(out, s.view(in, byID[in.ID]))
	}
	WriteJSON(w, http.StatusOK, map[string]any{"integrations": out})
	return nil
}

// named returns the integration of the {name} path value, or a 404.
func (s *Server) named(r *http.Request) (store.Integration, error) {
	name := r.PathValue("name")
	in, err := s.st.IntegrationByName(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return in, Fail(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no integration named %q", name), "GET /api/v1/integrations lists them", "")
	}
	if errors.Is(err, store.ErrCredentialsUnreadable) {
		all, lerr := s.st.ListIntegrations(r.Context())
		if lerr != nil {
			return in, lerr
		}
		for _, x := range all {
			if x.Name == name {
				return x, nil
			}
		}
	}
	return in, err
}

func (s *Server) getIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	var hp *store.Health
	if h, err := s.st.Health(r.Context(), in.ID); err == nil {
		hp = &h
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	WriteJSON(w, http.StatusOK, s.view(in, hp))
	return nil
}

// CredentialsInput is the authentication part of a create or update body: an API token, or a
// service app (client id, key id, private key as PEM or JWK).
type CredentialsInput struct {
	APIToken   string           `json:"apiToken,omitempty"`
	ServiceApp *ServiceAppInput `json:"serviceApp,omitempty"`
}

// ServiceAppInput describes an OAuth service app.
type ServiceAppInput struct {
	ClientID string `json:"clientId"`
	// KeyID may be empty when the private key is a JWK with a kid.
	KeyID      string   `json:"keyId,omitempty"`
	PrivateKey string   `json:"privateKey"`
	Scopes     []string `json:"scopes,omitempty"`
}

// CreateInput is the body of POST /api/v1/integrations.
type CreateInput struct {
	Name         string `json:"name"`
	OrgURL       string `json:"orgUrl"`
	CustomDomain bool   `json:"customDomain,omitempty"`
	CAPEM        string `json:"caPem,omitempty"`
	CredentialsInput
	Features []string `json:"features,omitempty"`
	// NoVerify stores the integration disabled without asking Okta.
	NoVerify bool `json:"noVerify,omitempty"`
}

// applyCredentials replaces in's authentication with c and checks it (a bad PEM or JWK is a 400).
func applyCredentials(in *store.Integration, c CredentialsInput) error {
	in.AuthKind, in.ClientID, in.KeyID, in.Scopes, in.Credentials = "", "", "", nil, store.Credentials{}
	token := strings.TrimPrefix(strings.TrimSpace(c.APIToken), "SSWS ")
	switch {
	case token != "" && c.ServiceApp != nil:
		return Fail(http.StatusBadRequest, CodeInvalidField, "both apiToken and serviceApp are given", "send one of them", "apiToken")
	case token != "":
		in.AuthKind, in.Credentials.APIToken = store.AuthAPIToken, secret.New(token)
	case c.ServiceApp != nil:
		a := c.ServiceApp
		if strings.TrimSpace(a.ClientID) == "" {
			return Fail(http.StatusBadRequest, CodeInvalidField, "serviceApp.clientId is empty", "copy the client id from the service app's General tab in the Okta admin console", "serviceApp.clientId")
		}
		if strings.TrimSpace(a.PrivateKey) == "" {
			return Fail(http.StatusBadRequest, CodeInvalidField, "serviceApp.privateKey is empty", "send the private key as PEM or as a JWK (JSON) string", "serviceApp.privateKey")
		}
		in.AuthKind, in.ClientID, in.KeyID, in.Scopes = store.AuthOAuth, strings.TrimSpace(a.ClientID), strings.TrimSpace(a.KeyID), a.Scopes
		in.Credentials.PrivateKeyPEM = secret.New(a.PrivateKey)
	default:
		return Fail(http.StatusBadRequest, CodeInvalidField, "no credentials", "send apiToken, or serviceApp with clientId, keyId and privateKey", "apiToken")
	}
	creds, err := collect.Credentials(*in)
	if err == nil {
		err = creds.Validate()
	}
	if err != nil {
		field := "apiToken"
		if in.AuthKind == store.AuthOAuth {
			field = "serviceApp.privateKey"
		}
		// The okta package's messages name what is wrong with the key, never its bytes.
		return Fail(http.StatusBadRequest, CodeInvalidField, err.Error(), "send a PKCS#8/PKCS#1/EC PEM private key or a private JWK, with its key id", field)
	}
	return nil
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) error {
	var body CreateInput
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if strings.TrimSpace(body.Name) == "" {
		return Fail(http.StatusBadRequest, CodeInvalidField, "name is empty", "name the integration, e.g. acme-prod", "name")
	}
	org, err := parseOrg(body.OrgURL, body.CustomDomain)
	if err != nil {
		return err
	}
	set, err := feature.Parse(strings.Join(body.Features, ","))
	if err != nil {
		return Fail(http.StatusBadRequest, CodeInvalidField, err.Error(), "use the feature names of docs/operations.md", "features")
	}
	in := store.Integration{Name: body.Name, OrgURL: org.String(), CustomDomain: body.CustomDomain, CAPEM: body.CAPEM,
		Features: set.List(), CustomAttributes: store.DefaultAttributeNames}
	if body.CAPEM != "" {
		if _, err := collect.ParseCABundle([]byte(body.CAPEM)); err != nil {
			return Fail(http.StatusBadRequest, CodeInvalidField, "caPem: "+err.Error(), "send a PEM bundle of CA certificates", "caPem")
		}
	}
	if err := applyCredentials(&in, body.CredentialsInput); err != nil {
		return err
	}
	if _, err := s.st.IntegrationByName(r.Context(), in.Name); err == nil {
		return Fail(http.StatusConflict, CodeConflict, fmt.Sprintf("an integration named %q exists", in.Name), "pick another name, or update that one's credentials", "name")
	}
	var rep *collect.Report
	if !body.NoVerify {
		if s.verifier == nil {
			return errUnavailableOp
		}
		rr := s.verifier.VerifyIntegration(r.Context(), in)
		rep, in.Enabled, in.OrgID = &rr, rr.CanCollectLogs, rr.OrgID
	}
	in, err = s.st.CreateIntegration(r.Context(), in)
	if errors.Is(err, store.ErrConflict) {
		return Fail(http.StatusConflict, CodeConflict, fmt.Sprintf("an integration named %q exists", in.Name), "pick another name", "name")
	}
	if err != nil {
		return err
	}
	h := store.Health{IntegrationID: in.ID, State: store.HealthPending}
	if !in.Enabled {
		h.State = store.HealthDisabled
		if rep != nil {
			if f := rep.Failed(); f != nil {
				h.State, h.Reason, h.Fix = store.HealthError, f.Name+": "+f.Detail, f.Fix
			}
		}
	}
	if err := s.st.SetHealth(r.Context(), h); err != nil {
		return err
	}
	s.sync()
	WriteJSON(w, http.StatusCreated, map[string]any{"integration": s.view(in, &h), "verification": rep})
	return nil
}

// parseOrg validates an org URL under the custom-domain policy.
func parseOrg(raw string, customDomain bool) (okta.OrgURL, error) {
	parse := okta.ParseOrgURL
	if customDomain {
		parse = func(raw string, _ ...string) (okta.OrgURL, error) { return okta.ParseCustomDomainOrgURL(raw) }
	}
	org, err := parse(raw)
	if err != nil {
		return org, Fail(http.StatusBadRequest, CodeInvalidField, "orgUrl: "+err.Error(),
			"send the org's https URL, e.g. https://acme.okta.com (customDomain: true for the org's own domain)", "orgUrl")
	}
	return org, nil
}

var errUnavailableOp = Fail(http.StatusServiceUnavailable, CodeUnavailable, "this server runs without Okta access",
	"run the API from idwatch serve, which verifies and collects", "")

func (s *Server) deleteIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	s.backfill.cancel(in.ID)
	if err := s.st.DeleteIntegration(r.Context(), in.ID); err != nil {
		return err
	}
	s.sync()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) enableIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	if in.CredentialsError != "" {
		return Fail(http.StatusConflict, CodeConflict, "the integration's credentials cannot be opened: "+in.CredentialsError, store.CredentialsFix(in.Name), "")
	}
	if s.verifier == nil {
		return errUnavailableOp
	}
	rep := s.verifier.VerifyIntegration(r.Context(), in)
	if in.OrgID == "" && rep.OrgID != "" {
		if err := s.st.SetIntegrationOrgID(r.Context(), in.ID, rep.OrgID); err != nil {
			s.log.Warn("org id not recorded", "integration", in.Name, "err", err)
		}
	}
	if f := rep.Failed(); f != nil {
		if err := s.setState(r.Context(), in.ID, store.HealthError, f.Name+": "+f.Detail, f.Fix); err != nil {
			return err
		}
		WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"enabled": false, "verification": rep})
		return nil
	}
	if err := s.st.SetIntegrationEnabled(r.Context(), in.ID, true); err != nil {
		return err
	}
	if err := s.setState(r.Context(), in.ID, store.HealthPending, "", ""); err != nil {
		return err
	}
	s.sync()
	WriteJSON(w, http.StatusOK, map[string]any{"enabled": true, "verification": rep})
	return nil
}

func (s *Server) disableIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	if err := s.st.SetIntegrationEnabled(r.Context(), in.ID, false); err != nil {
		return err
	}
	if err := s.setState(r.Context(), in.ID, store.HealthDisabled, "", ""); err != nil {
		return err
	}
	s.sync()
	WriteJSON(w, http.StatusOK, map[string]any{"enabled": false})
	return nil
}

// verifyIntegration runs the checklist on the stored integration; each check carries its fix.
func (s *Server) verifyIntegration(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	if in.CredentialsError != "" {
		return Fail(http.StatusConflict, CodeConflict, "the integration's credentials cannot be opened: "+in.CredentialsError, store.CredentialsFix(in.Name), "")
	}
	if s.verifier == nil {
		return errUnavailableOp
	}
	WriteJSON(w, http.StatusOK, s.verifier.VerifyIntegration(r.Context(), in))
	return nil
}

// updateCredentials rotates the credentials: the new ones are verified first, and the record keeps
// its id, cursor and journal.
func (s *Server) updateCredentials(w http.ResponseWriter, r *http.Request) error {
	in, err := s.named(r)
	if err != nil {
		return err
	}
	var body CredentialsInput
	if err := DecodeJSON(r, &body); err != nil {
		return err
	}
	if err := applyCredentials(&in, body); err != nil {
		return err
	}
	in.CredentialsError = ""
	if s.verifier == nil {
		return errUnavailableOp
	}
	rep := s.verifier.VerifyIntegration(r.Context(), in)
	if rep.Failed() != nil {
		WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"updated": false, "verification": rep})
		return nil
	}
	if in.OrgID == "" {
		in.OrgID = rep.OrgID
	}
	if in, err = s.st.UpdateIntegration(r.Context(), in); err != nil {
		return err
	}
	state := store.HealthPending
	if !in.Enabled {
		state = store.HealthDisabled
	}
	if err := s.setState(r.Context(), in.ID, state, "", ""); err != nil {
		return err
	}
	s.sync()
	WriteJSON(w, http.StatusOK, map[string]any{"updated": true, "verification": rep})
	return nil
}

// setState changes an integration's health state, keeping its counters.
func (s *Server) setState(ctx context.Context, id int64, state store.HealthState, reason, fix string) error {
	h, err := s.st.Health(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h.IntegrationID, h.State, h.Reason, h.Fix = id, state, reason, fix
	return s.st.SetHealth(ctx, h)
}

// sync tells the collector to look at the integrations now instead of at its next check.
func (s *Server) sync() {
	if s.onChange != nil {
		s.onChange()
	}
}

package console

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxFormBody bounds form posts; a private key or rule file is a few kilobytes.
const maxFormBody = 1 << 20

// verifyTimeout bounds one verification, which runs on after the request that started it.
const verifyTimeout = 2 * time.Minute

func (c *console) routeIntegrations(mux *http.ServeMux) {
	mux.Handle("GET /integrations", c.need(RoleViewer, c.integrationsPage))
	mux.Handle("GET /integrations/rows", c.need(RoleViewer, c.integrationRows))
	mux.Handle("POST /integrations/verify", c.need(RoleAdmin, c.startVerify))
	mux.Handle("GET /verifications/{job}", c.need(RoleAdmin, c.verifyStatus))
	mux.Handle("GET /integrations/{id}", c.need(RoleViewer, c.integrationPage))
	mux.Handle("GET /integrations/{id}/backfill", c.need(RoleViewer, c.backfillStatus))
	mux.Handle("POST /integrations/{id}/enable", c.need(RoleAdmin, c.setEnabled(true)))
	mux.Handle("POST /integrations/{id}/disable", c.need(RoleAdmin, c.setEnabled(false)))
	mux.Handle("POST /integrations/{id}/rotate", c.need(RoleAdmin, c.rotate))
	mux.Handle("POST /integrations/{id}/backfill", c.need(RoleAdmin, c.startBackfill))
}

func (c *console) integrationsPage(w http.ResponseWriter, r *http.Request, p Principal) {
	rows, err := c.b.Integrations(r.Context())
	if err != nil {
		c.backendError(w, r, p, "Listing integrations", err)
		return
	}
	c.render(w, r, http.StatusOK, "integrations", "", view{Title: "Integrations", Nav: "integrations", P: p, Data: rows, Flash: flash(r.URL.Query())})
}

func (c *console) integrationRows(w http.ResponseWriter, r *http.Request, p Principal) {
	rows, err := c.b.Integrations(r.Context())
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		c.log.Error("console: integrations", "err", err)
		return
	}
	c.render(w, r, http.StatusOK, "integrations", "rows-frag", view{P: p, Data: rows})
}

// readIntegrationForm reads the add/rotate form: an API token, or a service app's client id,
// key id and private key (PEM or JWK, uploaded as a file or pasted).
func readIntegrationForm(r *http.Request) (NewIntegration, *Error) {
	if err := r.ParseMultipartForm(maxFormBody); err != nil && err != http.ErrNotMultipart {
		return NewIntegration{}, &Error{Message: "The form could not be read", Fix: "Keep uploads under 1 MiB and submit the form again."}
	}
	v := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	in := NewIntegration{Name: v("name"), OrgURL: v("org_url")}
	switch v("auth") {
	case "api_token":
		in.APIToken = v("api_token")
		if in.APIToken == "" {
			return in, &Error{Message: "Enter the API token", Field: "api_token",
				Fix: "In the Okta admin console: Security › API › Tokens › Create token (as a Read-Only or Report Administrator)."}
		}
	case "service_app":
		in.ClientID, in.KeyID = v("client_id"), v("key_id")
		in.PrivateKey = v("private_key")
		if f, _, err := r.FormFile("private_key_file"); err == nil {
			b, rerr := io.ReadAll(io.LimitReader(f, 64<<10))
			f.Close()
			if rerr != nil {
				return in, &Error{Message: "The key file could not be read", Field: "private_key_file", Fix: "Upload it again."}
			}
			if len(strings.TrimSpace(string(b))) > 0 {
				in.PrivateKey = strings.TrimSpace(string(b))
			}
		}
		if s := v("scopes"); s != "" {
			in.Scopes = strings.Fields(strings.ReplaceAll(s, ",", " "))
		}
		switch {
		case in.ClientID == "":
			return in, &Error{Message: "Enter the client id", Field: "client_id",
				Fix: "In the Okta admin console: Applications › your API Services app › General › Client Credentials › Client ID."}
		case in.PrivateKey == "":
			return in, &Error{Message: "Upload or paste the private key (PEM or JWK)", Field: "private_key",
				Fix: "The key pair whose public key is under Applications › your app › General › Public Keys."}
		}
	default:
		return in, &Error{Message: "Choose how idwatch signs in to Okta", Field: "auth", Fix: "Pick API token or Service app."}
	}
	return in, nil
}

// verifyJob is one running or finished verification from the add form.
type verifyJob struct {
	mu     sync.Mutex
	owner  string
	checks []VerifyCheck
	done   bool
	added  *IntegrationRow
	err    *Error
	ended  time.Time
}

// verifyJobs holds verifications so the page can poll them; finished ones are kept ten minutes.
type verifyJobs struct {
	mu  sync.Mutex
	m   map[string]*verifyJob
	now func() time.Time
}

func newVerifyJobs(now func() time.Time) *verifyJobs {
	return &verifyJobs{m: map[string]*verifyJob{}, now: now}
}

func (j *verifyJobs) add(owner string) (string, *verifyJob) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	job := &verifyJob{owner: owner}
	j.mu.Lock()
	defer j.mu.Unlock()
	now := j.now()
	for k, old := range j.m {
		old.mu.Lock()
		stale := old.done && now.Sub(old.ended) > 10*time.Minute
		old.mu.Unlock()
		if stale {
			delete(j.m, k)
		}
	}
	j.m[id] = job
	return id, job
}

func (j *verifyJobs) get(id string) *verifyJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.m[id]
}

// verifyView is what the checklist fragment shows.
type verifyView struct {
	ID     string
	Checks []VerifyCheck
	Done   bool
	Added  *IntegrationRow
	Err    *Error
}

func (c *console) startVerify(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	in, ferr := readIntegrationForm(r)
	if ferr != nil {
		c.render(w, r, http.StatusOK, "integrations", "verify", view{P: p, Data: verifyView{Done: true, Err: ferr}})
		return
	}
	id, job := c.jobs.add(p.Name)
	// The verification outlives this request: the page polls for it check by check.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), verifyTimeout)
	go func() {
		defer cancel()
		c.runVerify(ctx, p, in, job)
	}()
	c.renderVerify(w, r, p, id, job)
}

// runVerify runs the checks and, when none that blocks collection failed, adds the integration.
func (c *console) runVerify(ctx context.Context, p Principal, in NewIntegration, job *verifyJob) {
	err := c.b.Verify(ctx, in, func(ch VerifyCheck) {
		job.mu.Lock()
		job.checks = append(job.checks, ch)
		job.mu.Unlock()
	})
	var added *IntegrationRow
	var uerr *Error
	if err != nil {
		uerr = c.userError("Verification", err)
	} else {
		blocked := false
		job.mu.Lock()
		for _, ch := range job.checks {
			blocked = blocked || (ch.Status == "fail" && ch.Blocking)
		}
		job.mu.Unlock()
		if blocked {
			uerr = &Error{Message: "Not added: a check that collection needs failed", Fix: "Fix the failed checks above in the Okta admin console, then verify again."}
		} else if row, err := c.b.AddIntegration(ctx, p, in); err != nil {
			uerr = c.userError("Adding the integration", err)
		} else {
			added = &row
		}
	}
	job.mu.Lock()
	job.done, job.added, job.err, job.ended = true, added, uerr, c.o.Now()
	job.mu.Unlock()
}

func (c *console) verifyStatus(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("job")
	job := c.jobs.get(id)
	if job == nil || job.owner != p.Name {
		c.render(w, r, http.StatusOK, "integrations", "verify", view{P: p, Data: verifyView{Done: true,
			Err: &Error{Message: "This verification is no longer available", Fix: "Submit the form again."}}})
		return
	}
	c.renderVerify(w, r, p, id, job)
}

func (c *console) renderVerify(w http.ResponseWriter, r *http.Request, p Principal, id string, job *verifyJob) {
	job.mu.Lock()
	vv := verifyView{ID: id, Checks: append([]VerifyCheck(nil), job.checks...), Done: job.done, Added: job.added, Err: job.err}
	job.mu.Unlock()
	if vv.Added != nil {
		// The integrations table listens for this event and reloads itself.
		w.Header().Set("HX-Trigger", "integrations-changed")
	}
	if !isHTMX(r) {
		c.render(w, r, http.StatusOK, "integrations", "verify-page", view{Title: "Verifying", Nav: "integrations", P: p, Data: vv})
		return
	}
	c.render(w, r, http.StatusOK, "integrations", "verify", view{P: p, Data: vv})
}

func (c *console) integrationPage(w http.ResponseWriter, r *http.Request, p Principal) {
	d, err := c.b.Integration(r.Context(), r.PathValue("id"))
	if err != nil {
		c.backendError(w, r, p, "Integration", err)
		return
	}
	c.render(w, r, http.StatusOK, "integration", "", view{Title: d.Name, Nav: "integrations", P: p, Data: d, Flash: flash(r.URL.Query())})
}

func (c *console) backfillStatus(w http.ResponseWriter, r *http.Request, p Principal) {
	id := r.PathValue("id")
	bf, err := c.b.BackfillProgress(r.Context(), id)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		c.log.Error("console: backfill progress", "err", err)
		return
	}
	d := IntegrationDetail{IntegrationRow: IntegrationRow{ID: id}, Backfill: bf}
	c.render(w, r, http.StatusOK, "integration", "backfill", view{P: p, Data: d})
}

func (c *console) setEnabled(on bool) handler {
	return func(w http.ResponseWriter, r *http.Request, p Principal) {
		id := r.PathValue("id")
		if err := c.b.SetIntegrationEnabled(r.Context(), p, id, on); err != nil {
			c.backendError(w, r, p, "Changing the integration", err)
			return
		}
		done := "disabled"
		if on {
			done = "enabled"
		}
		c.back(w, r, "/integrations/"+pathEsc(id), done)
	}
}

func (c *console) rotate(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	id := r.PathValue("id")
	in, ferr := readIntegrationForm(r)
	if ferr == nil {
		if err := c.b.Rotate(r.Context(), p, id, in.Credentials); err != nil {
			ferr = c.userError("Rotating credentials", err)
		}
	}
	if ferr != nil {
		d, err := c.b.Integration(r.Context(), id)
		if err != nil {
			c.backendError(w, r, p, "Integration", err)
			return
		}
		c.render(w, r, http.StatusOK, "integration", "", view{Title: d.Name, Nav: "integrations", P: p, Data: d, Err: ferr})
		return
	}
	c.back(w, r, "/integrations/"+pathEsc(id), "rotated")
}

func (c *console) startBackfill(w http.ResponseWriter, r *http.Request, p Principal) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id := r.PathValue("id")
	now := c.o.Now()
	since, e1 := parseWhen(r.PostFormValue("since"), now)
	until, e2 := parseWhen(r.PostFormValue("until"), now)
	var ferr *Error
	switch {
	case e1 != nil || since.IsZero():
		ferr = &Error{Message: "Enter when the backfill starts", Field: "since", Fix: "A date (2026-11-01), an RFC 3339 time, or a duration back from now (7d, 90m); at most 90 days back."}
	case e2 != nil:
		ferr = &Error{Message: "The end time could not be read", Field: "until", Fix: "Leave it empty for now, or give a date, an RFC 3339 time or a duration back from now."}
	}
	if until.IsZero() {
		until = now
	}
	if ferr == nil && !since.Before(until) {
		ferr = &Error{Message: "The backfill starts after it ends", Field: "since", Fix: "Give a start before the end."}
	}
	if ferr == nil {
		if err := c.b.StartBackfill(r.Context(), p, id, since, until); err != nil {
			ferr = c.userError("Starting the backfill", err)
		}
	}
	if ferr != nil {
		d, err := c.b.Integration(r.Context(), id)
		if err != nil {
			c.backendError(w, r, p, "Integration", err)
			return
		}
		c.render(w, r, http.StatusOK, "integration", "", view{Title: d.Name, Nav: "integrations", P: p, Data: d, Err: ferr})
		return
	}
	c.back(w, r, "/integrations/"+pathEsc(id), "backfill")
}

// rowsView is the integrations table body.
type rowsView struct {
	P    Principal
	Rows []IntegrationRow
}

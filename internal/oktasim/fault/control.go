package fault

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxRuleBytes bounds a control-API request body.
const maxRuleBytes = 16 << 10

// ControlHandler serves the control API under ControlPrefix:
//
//	POST   {prefix}        add a rule (JSON Rule) → 201 and the rule with its id
//	GET    {prefix}        list active rules → 200 [Rule…]
//	DELETE {prefix}        remove every rule → 204
//	GET    {prefix}/{id}   one rule → 200, or 404
//	DELETE {prefix}/{id}   remove one rule → 204, or 404
//
// Errors are {"error": "…"} with a 4xx status.
func (in *Injector) ControlHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, in.cfg.ControlPrefix)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			controlError(w, http.StatusNotFound, "no such fault endpoint")
			return
		}
		id := strings.Trim(rest, "/")
		switch {
		case id == "" && r.Method == http.MethodPost:
			in.addFromRequest(w, r)
		case id == "" && r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, in.List())
		case id == "" && r.Method == http.MethodDelete:
			in.Clear()
			w.WriteHeader(http.StatusNoContent)
		case id != "" && r.Method == http.MethodGet:
			for _, rule := range in.List() {
				if rule.ID == id {
					writeJSON(w, http.StatusOK, rule)
					return
				}
			}
			controlError(w, http.StatusNotFound, "no active fault "+id)
		case id != "" && r.Method == http.MethodDelete:
			if !in.Remove(id) {
				controlError(w, http.StatusNotFound, "no active fault "+id)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, POST, DELETE")
			controlError(w, http.StatusMethodNotAllowed, "use GET, POST or DELETE")
		}
	})
}

// addFromRequest decodes a rule strictly and adds it.
func (in *Injector) addFromRequest(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRuleBytes))
	dec.DisallowUnknownFields()
	var rule Rule
	if err := dec.Decode(&rule); err != nil {
		controlError(w, http.StatusBadRequest, "fault rule is not valid JSON: "+err.Error())
		return
	}
	if dec.More() {
		controlError(w, http.StatusBadRequest, "send one fault rule per request")
		return
	}
	added, err := in.Add(rule)
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, added)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

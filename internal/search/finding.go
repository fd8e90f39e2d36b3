package search

import (
	"cmp"
	"encoding/json"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
)

// FindingSummary is what a list shows of an alert's Detection Finding.
type FindingSummary struct {
	// Title is the rule's name.
	Title string
	// Entities are the finding's users and addresses ("user:login", "ip:192.0.2.1").
	Entities []string
	// Techniques are the ATT&CK technique ids (T1110.003).
	Techniques []string
}

// Summarize reads a Detection Finding's title, entities and ATT&CK techniques; a body that is
// not a finding gives an empty summary.
func Summarize(body []byte) FindingSummary {
	var f struct {
		Info struct {
			Title    string `json:"title"`
			Analytic struct {
				Name string `json:"name"`
			} `json:"analytic"`
			Attacks []struct {
				Technique struct {
					UID string `json:"uid"`
				} `json:"technique"`
				SubTechnique struct {
					UID string `json:"uid"`
				} `json:"sub_technique"`
			} `json:"attacks"`
		} `json:"finding_info"`
		Unmapped struct {
			Entities []string `json:"entities"`
		} `json:"unmapped"`
	}
	if json.Unmarshal(body, &f) != nil {
		return FindingSummary{}
	}
	s := FindingSummary{Title: cmp.Or(f.Info.Analytic.Name, f.Info.Title), Entities: f.Unmapped.Entities}
	for _, a := range f.Info.Attacks {
		if id := cmp.Or(a.SubTechnique.UID, a.Technique.UID); id != "" {
			s.Techniques = append(s.Techniques, id)
		}
	}
	return s
}

// Flagged says what of a raw event could not be read into the model ("" when all of it could):
// such an event is kept and delivered, and its flaws travel with it.
func Flagged(raw []byte) string {
	ev, err := event.DecodeOwned(raw)
	if err != nil {
		return err.Error()
	}
	parts := make([]string, 0, len(ev.Flaws))
	for _, f := range ev.Flaws {
		parts = append(parts, f.Path+": "+f.Problem)
	}
	return strings.Join(parts, "; ")
}

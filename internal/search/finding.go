package search

import (
	"cmp"
	"encoding/json"
	"strings"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/process"
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

// Summarize reads a Detection Finding's title, entities and ATT&CK techniques (as the processor
// reads them to group incidents); a body that is not a finding gives an empty summary.
func Summarize(body []byte) FindingSummary {
	var f struct {
		Info struct {
			Title    string `json:"title"`
			Analytic struct {
				Name string `json:"name"`
			} `json:"analytic"`
		} `json:"finding_info"`
	}
	if json.Unmarshal(body, &f) != nil {
		return FindingSummary{}
	}
	_, techniques, entities := process.FindingFacts(body)
	s := FindingSummary{Title: cmp.Or(f.Info.Analytic.Name, f.Info.Title), Techniques: techniques}
	for _, e := range entities {
		s.Entities = append(s.Entities, string(e))
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

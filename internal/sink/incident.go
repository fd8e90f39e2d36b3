package sink

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/idwatch/idwatch/internal/incident"
	"github.com/idwatch/idwatch/internal/store"
)

// incidentRecord renders one incident stream record as the Incident Finding a sink delivers. Its
// id names the incident and the change, so destinations that deduplicate keep every change.
func incidentRecord(ir store.IncidentRecord) (Record, error) {
	var snap incident.Snapshot
	if err := json.Unmarshal(ir.Snapshot, &snap); err != nil {
		return Record{}, fmt.Errorf("incident %s: snapshot: %w", ir.IncidentID, err)
	}
	f, err := incident.Finding(snap, ir.Activity, ir.Seq)
	if err != nil {
		return Record{}, err
	}
	body, err := json.Marshal(f)
	if err != nil {
		return Record{}, err
	}
	var scope struct {
		Scope string `json:"scope"`
	}
	_ = json.Unmarshal(snap.Detail, &scope) // Finding already decoded it
	integration, _ := strconv.ParseInt(scope.Scope, 10, 64)
	return Record{ID: fmt.Sprintf("%s-%d", ir.IncidentID, ir.Seq), Kind: KindIncident, Seq: ir.Seq, Time: ir.At,
		IntegrationID: integration, Body: body}, nil
}

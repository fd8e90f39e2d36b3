package sink

import (
	"strconv"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
	"github.com/idwatch/idwatch/internal/store"
)

// NormalizeOCSF adapts the normalizer to the runner: each journal entry is decoded and mapped to
// one OCSF record per schema it routes to, raw_data included, tenant = integration id.
func NormalizeOCSF(n *normalize.Normalizer) OCSFFunc {
	return NormalizeOCSFEnriched(n, nil)
}

// NormalizeOCSFEnriched is NormalizeOCSF with each record's actor and subject user resolved
// against the integration's identity inventory (enrich gives it; nil, or a nil Enricher, leaves
// the records as the event alone maps them). Records are built at delivery, so they carry the
// inventory as it is when they are delivered.
func NormalizeOCSFEnriched(n *normalize.Normalizer, enrich func(integrationID int64) normalize.Enricher) OCSFFunc {
	return func(e store.Entry) ([]OCSFRecord, error) {
		ev, err := event.DecodeOwned(e.Raw)
		if err != nil {
			return nil, err
		}
		meta := normalize.Meta{TenantUID: strconv.FormatInt(e.IntegrationID, 10), LoggedTime: e.StoredAt, Raw: e.Raw}
		if enrich != nil {
			meta.Enricher = enrich(e.IntegrationID)
		}
		recs := n.Normalize(ev, meta)
		out := make([]OCSFRecord, 0, len(recs))
		for _, r := range recs {
			b, err := r.AppendJSON(nil, normalize.EncodeOptions{})
			if err != nil {
				return nil, err
			}
			out = append(out, OCSFRecord{Schema: string(r.Schema), Body: b})
		}
		return out, nil
	}
}

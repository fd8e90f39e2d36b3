package sink

import (
	"fmt"

	"github.com/idwatch/idwatch/internal/store"
)

// identityRecord renders one identity stream record as the OCSF record a sink delivers (built by
// the inventory when it changed). Its id names the integration, what it is about and its place
// in the stream, so destinations that deduplicate keep every snapshot and change.
func identityRecord(ir store.IdentityRecord) Record {
	return Record{ID: fmt.Sprintf("%s-%d-%s-%d", ir.Kind, ir.IntegrationID, ir.UID, ir.Seq), Kind: KindIdentity, Seq: ir.Seq,
		Time: ir.At, IntegrationID: ir.IntegrationID, Body: ir.Body}
}

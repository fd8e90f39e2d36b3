package process

import (
	"fmt"
	"testing"

	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// TestRecordFieldsAgree checks that the fields recordFields answers from the OCSF struct equal
// what the record's encoding holds, for every record of the corpus, in any letter case.
func TestRecordFieldsAgree(t *testing.T) {
	c := sharedCorpus()
	norm := normalize.New()
	paths := []string{"time", "metadata.uid", "Metadata.Event_Code", "class_uid", "STATUS_ID", "actor.user.name", "Src_Endpoint.IP"}
	collect := func(f event.Fields, p event.Path) []string {
		var out []string
		f.Each(p, func(v any) bool {
			out = append(out, fmt.Sprintf("%T:%v", v, v))
			return true
		})
		return out
	}
	checked := 0
	for _, pg := range c.pages {
		for _, e := range pg.events {
			ev, err := event.Decode(e.Raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range norm.Normalize(ev, normalize.Meta{Raw: e.Raw}) {
				for _, ps := range paths {
					p := event.MustPath(ps)
					fast, full := collect(recordFields{r}, p), collect(r, p)
					if fmt.Sprint(fast) != fmt.Sprint(full) {
						t.Fatalf("%s %s: %s: fast %v, encoded %v", e.EventType, r.Schema, ps, fast, full)
					}
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no records checked")
	}
}

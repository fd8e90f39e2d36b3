package process

import (
	"github.com/idwatch/idwatch/internal/detect"
	"github.com/idwatch/idwatch/internal/event"
	"github.com/idwatch/idwatch/internal/normalize"
)

// DetectEvent evaluates one event the way the processor evaluates every journal entry: eng runs
// on the raw event, then on each of its normalized records under the record's schema, in that
// order, so that rules on raw events and rules on records both see it and alert ids do not depend
// on who evaluates it (the processor, its catch-up, or `idwatch replay`). It returns the alerts
// raised, or none when silent (Engine.Replay: state is rebuilt, alerts remembered). An input the
// engine refuses (for example one without a readable time) is passed to refused, with the
// record's schema ("" for the raw event), and the other inputs are still evaluated.
func DetectEvent(eng *detect.Engine, ev *event.LogEvent, recs []*normalize.Record, silent bool, refused func(schema string, err error)) []detect.Alert {
	var alerts []detect.Alert
	run := func(in detect.Input) {
		var err error
		if silent {
			err = eng.Replay(in)
		} else {
			var as []detect.Alert
			as, err = eng.Process(in) // valid until the next call: copied out
			alerts = append(alerts, as...)
		}
		if err != nil && refused != nil {
			refused(in.Schema, err)
		}
	}
	run(detect.Input{Fields: rawInput(ev, recs)})
	for _, r := range recs {
		run(detect.Input{Fields: recordFields{r}, Schema: string(r.Schema)})
	}
	return alerts
}

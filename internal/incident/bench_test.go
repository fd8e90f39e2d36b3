package incident

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkGroup groups 10,000 alerts about 500 users over 30 days.
func BenchmarkGroup(b *testing.B) {
	var alerts []Alert
	for i := range 10_000 {
		alerts = append(alerts, al(fmt.Sprintf("a%05d", i), fmt.Sprint("r", i%20), "medium",
			time.Duration(i*259)*time.Second, fmt.Sprintf("actor.alternateId=u%d@example.com, client.ipAddress=198.51.100.%d", i%500, i%200),
			"attack.credential-access"))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Group(alerts, Config{}); err != nil {
			b.Fatal(err)
		}
	}
}

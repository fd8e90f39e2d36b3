package console

import (
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wellFormed parses s as XML, so a chart is always a complete, valid SVG element.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		if _, err := d.Token(); err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatalf("not well-formed: %v\n%s", err, s)
		}
	}
}

var rectRe = regexp.MustCompile(`<rect class="bar" x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)" height="([0-9.]+)"><title>([^<]*)</title>`)

func TestBars(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	pts := []Point{{t0, 10}, {t0.Add(time.Hour), 40}, {t0.Add(2 * time.Hour), 0}, {t0.Add(3 * time.Hour), 0.01}, {t0.Add(4 * time.Hour), math.NaN()}}
	s := string(Bars(pts, `events <"x">`, "events", "bar-events", 400))
	wellFormed(t, s)
	rects := rectRe.FindAllStringSubmatch(s, -1)
	if len(rects) != len(pts) {
		t.Fatalf("%d bars, want %d", len(rects), len(pts))
	}
	h := func(i int) float64 { v, _ := strconv.ParseFloat(rects[i][4], 64); return v }
	// The scale tops at 50 (a round number above 40): 40 fills 4/5 of the plot, 10 a quarter of that.
	if math.Abs(h(1)/h(0)-4) > 0.01 {
		t.Errorf("bar heights %v and %v are not in proportion to 10 and 40", h(0), h(1))
	}
	if h(2) != 0 || h(4) != 0 {
		t.Errorf("zero and NaN bars have heights %v, %v", h(2), h(4))
	}
	if h(3) < 1 {
		t.Errorf("a tiny non-zero value is invisible (%v)", h(3))
	}
	if !strings.Contains(s, `>50</text>`) {
		t.Errorf("axis top not 50: %s", s)
	}
	if !strings.Contains(rects[1][5], "Dec 4 01:00: 40 events") {
		t.Errorf("bar title %q", rects[1][5])
	}
	if !strings.Contains(s, `aria-label="events &lt;&#34;x&#34;&gt;"`) {
		t.Errorf("label not escaped: %s", s[:200])
	}
	if strings.Contains(s, "preserveAspectRatio") {
		t.Error("chart text would be stretched")
	}
	empty := string(Bars(nil, "none", "events", "c", 400))
	wellFormed(t, empty)
	if !strings.Contains(empty, "no data") {
		t.Error("empty chart does not say so")
	}
}

func TestSparkline(t *testing.T) {
	for _, vals := range [][]float64{nil, {5}, {0, 0, 0}, {1, 5, math.Inf(1), -3, 2}} {
		s := string(Sparkline(vals, "events & more"))
		wellFormed(t, s)
		if !strings.Contains(s, `aria-label="events &amp; more"`) {
			t.Errorf("%v: label %s", vals, s)
		}
		for _, m := range regexp.MustCompile(`,(-?[0-9.]+)`).FindAllStringSubmatch(s, -1) {
			if y, _ := strconv.ParseFloat(m[1], 64); y < 0 || y > 24 {
				t.Errorf("%v: point outside the box: y=%v", vals, y)
			}
		}
	}
	// The highest value is drawn at the top, the lowest at the bottom.
	s := string(Sparkline([]float64{0, 10}, "x"))
	if !strings.Contains(s, `points="0.0,23.0 120.0,2.0"`) {
		t.Errorf("scaling: %s", s)
	}
}

func TestSeverityBar(t *testing.T) {
	s := string(SeverityBar(map[string]int{"critical": 1, "high": 3, "low": -2, "bogus": 9}))
	wellFormed(t, s)
	if strings.Contains(s, "bogus") || strings.Contains(s, "sev-low") {
		t.Errorf("unknown or negative severities drawn: %s", s)
	}
	if !strings.Contains(s, `class="sev-critical" x="0.0" y="0" width="75.0"`) || !strings.Contains(s, `class="sev-high" x="75.0" y="0" width="225.0"`) {
		t.Errorf("proportions: %s", s)
	}
	if !strings.Contains(s, "1 critical, 3 high, 0 medium, 0 low, 0 informational") {
		t.Errorf("text equivalent: %s", s)
	}
	if e := string(SeverityBar(nil)); !strings.Contains(e, "sev-none") {
		t.Errorf("empty: %s", e)
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[float64]float64{0: 0, 1: 1, 1.2: 2, 40: 50, 50: 50, 51: 100, 999: 1000, 0.3: 0.5} {
		if got := niceCeil(in); math.Abs(got-want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                     {},
		"90m":                  now.Add(-90 * time.Minute),
		"7d":                   now.Add(-7 * 24 * time.Hour),
		"2026-11-01":           time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		"2026-11-01T10:30":     time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC),
		"2026-11-01T10:30:00Z": time.Date(2026, 11, 1, 10, 30, 0, 0, time.UTC),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m", "7dd", "d", "1.5d", "99999999999d"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q): no error", bad)
		}
	}
}

func TestThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1482113: "1,482,113", -12345: "-12,345"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParseWhen: any input gives a time or an error, never a panic, and an accepted duration is
// never in the future.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"", "7d", "90m", "2026-11-01", "2026-11-01T10:30", "2026-11-01T10:30:00Z", "-1h", "99999999999d", "1e9h"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseWhen(s, now)
		if err == nil && got.After(now) && !strings.Contains(s, "-") && !strings.Contains(s, ":") {
			t.Errorf("parseWhen(%q) = %v, after now", s, got)
		}
	})
}

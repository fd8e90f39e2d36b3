package console

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Charts are drawn by the server as inline SVG, so pages need no charting script and the CSP can
// stay strict. Colours come from CSS classes in the product's stylesheet; every chart carries a
// text equivalent (aria-label, and a <title> per bar) for screen readers and hover.

// clean returns v, or 0 when v is NaN, infinite or negative: series come from counters, and a
// broken value must not break the page.
func clean(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// maxOf is the largest clean value, or 0.
func maxOf(vals []float64) float64 {
	m := 0.0
	for _, v := range vals {
		m = max(m, clean(v))
	}
	return m
}

// num formats a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// Sparkline draws vals as a small line with its area, scaled to the largest value.
func Sparkline(vals []float64, label string) template.HTML {
	const w, h = 120.0, 24.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`,
		int(w), int(h), int(w), int(h), template.HTMLEscapeString(label))
	if len(vals) == 0 {
		fmt.Fprintf(&b, `<line class="spark-none" x1="0" y1="%s" x2="%s" y2="%s"/></svg>`, num(h-1), num(w), num(h-1))
		return template.HTML(b.String())
	}
	top := maxOf(vals)
	step := w
	if len(vals) > 1 {
		step = w / float64(len(vals)-1)
	}
	pts := make([]string, len(vals))
	for i, v := range vals {
		y := h - 1
		if top > 0 {
			y = h - 1 - clean(v)/top*(h-3)
		}
		pts[i] = num(float64(i)*step) + "," + num(y)
	}
	if len(vals) == 1 {
		pts = append(pts, num(w)+","+strings.Split(pts[0], ",")[1])
	}
	line := strings.Join(pts, " ")
	fmt.Fprintf(&b, `<polygon class="spark-area" points="0,%s %s %s,%s"/>`, num(h), line, num(w), num(h))
	fmt.Fprintf(&b, `<polyline class="spark-line" points="%s"/></svg>`, line)
	return template.HTML(b.String())
}

// Bars draws a time series as a bar chart with a labelled value axis and first/middle/last time
// labels; class names the bars' colour (e.g. "bar-events", "bar-429"). width is the drawing's
// width in CSS pixels at which its text reads at its natural size; the chart scales to its box
// keeping its proportions, so text is never stretched.
func Bars(pts []Point, label, unit, class string, width int) template.HTML {
	const h, left, bottom, top = 130.0, 40.0, 18.0, 6.0
	w := float64(max(width, 200))
	plotW, plotH := w-left-4, h-bottom-top
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bars %s" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		template.HTMLEscapeString(class), int(w), int(h), template.HTMLEscapeString(label))
	vals := make([]float64, len(pts))
	for i, p := range pts {
		vals[i] = clean(p.V)
	}
	peak := maxOf(vals)
	scale := niceCeil(peak)
	// Value axis: zero and the scale's top.
	fmt.Fprintf(&b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(top+plotH), num(w-4), num(top+plotH))
	fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(left), num(top), num(w-4), num(top))
	fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`, num(left-4), num(top+4), short(scale))
	fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="end">0</text>`, num(left-4), num(top+plotH))
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle">no data</text></svg>`, num(left+plotW/2), num(top+plotH/2))
		return template.HTML(b.String())
	}
	slot := plotW / float64(len(pts))
	gap := min(slot*0.2, 2)
	for i, p := range pts {
		bh := 0.0
		if scale > 0 {
			bh = vals[i] / scale * plotH
		}
		if vals[i] > 0 && bh < 1 {
			bh = 1 // a non-zero value stays visible
		}
		x := left + float64(i)*slot
		fmt.Fprintf(&b, `<rect class="bar" x="%s" y="%s" width="%s" height="%s"><title>%s: %s %s</title></rect>`,
			num(x+gap/2), num(top+plotH-bh), num(max(slot-gap, 0.5)), num(bh),
			p.T.UTC().Format("Jan 2 15:04"), strconv.FormatFloat(vals[i], 'f', -1, 64), template.HTMLEscapeString(unit))
	}
	for _, i := range []int{0, len(pts) / 2, len(pts) - 1} {
		anchor := "middle"
		if i == 0 {
			anchor = "start"
		} else if i == len(pts)-1 {
			anchor = "end"
		}
		x := left + float64(i)*slot + slot/2
		if anchor == "start" {
			x = left
		} else if anchor == "end" {
			x = w - 4
		}
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="%s">%s</text>`, num(x), num(h-4), anchor, timeLabel(pts, i))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// timeLabel formats point i's time with the precision the series' span needs.
func timeLabel(pts []Point, i int) string {
	span := pts[len(pts)-1].T.Sub(pts[0].T)
	t := pts[i].T.UTC()
	if span > 48*time.Hour {
		return t.Format("Jan 2")
	}
	return t.Format("15:04")
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so the axis reads well.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// short formats an axis value compactly (1.2k, 3M).
func short(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// severityOrder is the order severities are shown in, most severe first.
var severityOrder = []string{"critical", "high", "medium", "low", "informational"}

// SeverityBar draws alert counts by severity as one stacked horizontal bar; the counts are also
// written as text next to it by the page, so the bar is decoration for sighted users.
func SeverityBar(counts map[string]int) template.HTML {
	const w, h = 300.0, 12.0
	total := 0
	for _, s := range severityOrder {
		total += max(counts[s], 0)
	}
	var b strings.Builder
	parts := make([]string, 0, len(severityOrder))
	for _, s := range severityOrder {
		parts = append(parts, fmt.Sprintf("%d %s", max(counts[s], 0), s))
	}
	fmt.Fprintf(&b, `<svg class="sevbar" viewBox="0 0 %d %d" role="img" aria-label="%s" preserveAspectRatio="none">`,
		int(w), int(h), template.HTMLEscapeString("alerts by severity: "+strings.Join(parts, ", ")))
	if total == 0 {
		fmt.Fprintf(&b, `<rect class="sev-none" x="0" y="0" width="%d" height="%d"/></svg>`, int(w), int(h))
		return template.HTML(b.String())
	}
	x := 0.0
	for _, s := range severityOrder {
		n := max(counts[s], 0)
		if n == 0 {
			continue
		}
		sw := float64(n) / float64(total) * w
		fmt.Fprintf(&b, `<rect class="sev-%s" x="%s" y="0" width="%s" height="%d"><title>%d %s</title></rect>`, s, num(x), num(sw), int(h), n, s)
		x += sw
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

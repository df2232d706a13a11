package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/cloche/cloche"
)

// A chart is a bar chart drawn on the server as inline SVG: the console
// stays free of JavaScript and its style sheet colours the bars by class
// (no inline style: the CSP forbids it). Each chart comes with its data
// as a table, for screen readers and for copying.

// Geometry of every chart, in the SVG's user units.
const (
	chartW      = 720
	chartH      = 180
	chartLeft   = 44 // room for the y labels
	chartRight  = 8
	chartTop    = 10
	chartBottom = 26 // room for the x labels
)

// chart is what the "chart" template draws.
type chart struct {
	ID, Title string
	Unit      string // what a bar counts ("notifications")
	W, H      int
	Bars      []chartBar
	Ticks     []chartTick
	Grid      []chartTick // horizontal lines: Y and label
	Legend    []chartSeries
	Columns   []string // the table's: the bucket, then each series
	Rows      []chartRow
	Total     int    // everything the chart counts
	Summary   string // one sentence for the SVG's accessible name
	BaseY     int
	Left      int
	Right     int
}

type chartBar struct {
	X, W float64
	Segs []chartSeg
}

type chartSeg struct {
	Y, H  float64
	Class string
	Title string
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartSeries struct {
	Class, Label string
	Total        int
	Value        string // the total as shown, when not a count
}

type chartRow struct {
	Label  string
	Values []string
}

// series is one stacked series of a chart: its class, label and one value
// per bucket.
type series struct {
	Class, Label string
	Values       []int
}

// stackedChart draws series stacked per bucket; labels name the buckets
// and tick tells which of them get an x label.
func stackedChart(id, title, unit string, labels []string, tick func(i int) bool, ss []series) *chart {
	c := &chart{ID: id, Title: title, Unit: unit, W: chartW, H: chartH, BaseY: chartH - chartBottom, Left: chartLeft, Right: chartW - chartRight}
	n := len(labels)
	most := 0
	for i := range n {
		sum := 0
		for _, s := range ss {
			sum += s.Values[i]
		}
		most = max(most, sum)
	}
	top := niceCeil(most)
	plotH := float64(chartH - chartTop - chartBottom)
	slot := float64(chartW-chartLeft-chartRight) / float64(n)
	c.Columns = append(c.Columns, "")
	for _, s := range ss {
		c.Columns = append(c.Columns, s.Label)
		total := 0
		for _, v := range s.Values {
			total += v
		}
		c.Legend = append(c.Legend, chartSeries{Class: s.Class, Label: s.Label, Total: total, Value: strconv.Itoa(total)})
		c.Total += total
	}
	if len(ss) > 1 {
		c.Columns = append(c.Columns, "Total")
	}
	for i := range n {
		b := chartBar{X: float64(chartLeft) + float64(i)*slot + slot*0.15, W: slot * 0.7}
		y := float64(c.BaseY)
		row := chartRow{Label: labels[i]}
		sum := 0
		for _, s := range ss {
			v := s.Values[i]
			row.Values = append(row.Values, strconv.Itoa(v))
			sum += v
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(top)
			y -= h
			b.Segs = append(b.Segs, chartSeg{Y: y, H: h, Class: s.Class, Title: fmt.Sprintf("%s, %s: %d %s", labels[i], s.Label, v, unit)})
		}
		if len(ss) > 1 {
			row.Values = append(row.Values, strconv.Itoa(sum))
		}
		c.Rows = append(c.Rows, row)
		c.Bars = append(c.Bars, b)
		if tick(i) {
			c.Ticks = append(c.Ticks, chartTick{X: b.X + b.W/2, Y: float64(c.BaseY) + 16, Label: labels[i]})
		}
	}
	for _, v := range []int{0, top / 2, top} {
		if v == 0 && top == 0 {
			continue
		}
		c.Grid = append(c.Grid, chartTick{X: float64(chartLeft) - 6, Y: float64(c.BaseY) - plotH*float64(v)/float64(max(top, 1)), Label: strconv.Itoa(v)})
	}
	c.Summary = fmt.Sprintf("%s: %d %s in all.", title, c.Total, unit)
	return c
}

// niceCeil is the smallest of 1, 2, 5 times a power of ten that is at
// least n (at least 2, so that the middle line falls on a whole number).
func niceCeil(n int) int {
	if n <= 2 {
		return 2
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n && (m*p)%2 == 0 {
				return m * p
			}
		}
	}
}

// activityCharts are the dashboard's charts of the history a.
type activityCharts struct {
	Hours, Days, Emails, Lag *chart
	// LagWorst is the longest lag of the last 24 hours; Scheduled how many
	// scheduled events they published.
	LagWorst  time.Duration
	Scheduled int
}

var channelClass = map[cloche.Channel]string{
	cloche.ChannelEmail: "s-email", cloche.ChannelMessage: "s-message",
	cloche.ChannelHeaderMessage: "s-banner", cloche.ChannelAlert: "s-alert",
}

func buildCharts(a *cloche.Activity) *activityCharts {
	out := &activityCharts{}
	perChannel := func(bs []cloche.ActivityBucket) []series {
		var ss []series
		for _, ch := range channels {
			s := series{Class: channelClass[ch], Label: channelLabel(ch)}
			for _, b := range bs {
				s.Values = append(s.Values, b.Reached[ch])
			}
			ss = append(ss, s)
		}
		return ss
	}
	var hourLabels, dayLabels []string
	for _, b := range a.Hours {
		hourLabels = append(hourLabels, b.Start.Format("15:04"))
	}
	for _, b := range a.Days {
		dayLabels = append(dayLabels, b.Start.Format("Jan 2"))
	}
	every := func(k int) func(int) bool {
		return func(i int) bool { return (len(hourLabels)-1-i)%k == 0 }
	}
	everyDay := func(i int) bool { return (len(dayLabels)-1-i)%5 == 0 }
	out.Hours = stackedChart("chart-hours", "Notifications per hour, last 24 hours", "notifications", hourLabels, every(3), perChannel(a.Hours))
	out.Days = stackedChart("chart-days", "Notifications per day, last 30 days", "notifications", dayLabels, everyDay, perChannel(a.Days))
	outcomes := []struct {
		class, label string
		states       []cloche.DeliveryState
	}{
		{"s-sent", "Sent", []cloche.DeliveryState{cloche.DeliverySent}},
		{"s-skipped", "Skipped (read in the app)", []cloche.DeliveryState{"skipped"}},
		{"s-failed", "Failed", []cloche.DeliveryState{cloche.DeliveryFailed}},
	}
	var es []series
	for _, o := range outcomes {
		s := series{Class: o.class, Label: o.label}
		for _, b := range a.Days {
			v := 0
			for _, st := range o.states {
				v += b.Emails[st]
			}
			s.Values = append(s.Values, v)
		}
		es = append(es, s)
	}
	out.Emails = stackedChart("chart-emails", "E-mail outcomes per day, last 30 days", "e-mails", dayLabels, everyDay, es)
	// The lag in whole seconds per hour (the worst of the hour).
	lag := series{Class: "s-lag", Label: "Worst lag (seconds)"}
	for _, b := range a.Hours {
		lag.Values = append(lag.Values, int((b.MaxLag+time.Second-1)/time.Second))
		out.LagWorst = max(out.LagWorst, b.MaxLag)
		out.Scheduled += b.Scheduled
	}
	out.Lag = stackedChart("chart-lag", "Scheduler lag per hour, last 24 hours", "seconds", hourLabels, every(3), []series{lag})
	// A lag is not a count: the chart's total is its worst, not a sum.
	out.Lag.Total = int((out.LagWorst + time.Second - 1) / time.Second)
	out.Lag.Legend[0].Value = humanDuration(out.LagWorst) + " at worst"
	out.Lag.Summary = fmt.Sprintf("Scheduler lag per hour, last 24 hours: %s at worst, over %d scheduled events.", humanDuration(out.LagWorst), out.Scheduled)
	return out
}

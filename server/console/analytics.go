package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"cardflow/flows"
)

// periods are the lengths, in days, the analytics page offers; the first
// of them past the default is the one shown without a choice.
var periods = []int{7, 30, 90}

// defaultPeriod is the period the analytics page shows without a choice:
// the engine's default window.
const defaultPeriod = "30"

// maxCustomDays bounds a custom period, so one page load reads at most a
// year and a day of tasks.
const maxCustomDays = 366

type analyticsData struct {
	Flows   []flows.Definition
	Flow    string
	Period  string // "7", "30", "90" or "custom"
	Periods []int
	From    string // the custom period's dates, as typed
	To      string
	// Shown is the period the figures are of, in the reader's zone.
	Shown string
	Error string
	Rows  []flowView
}

// flowView is one flow's figures as the page shows them.
type flowView struct {
	flows.FlowAnalytics
	Steps     []figuresView
	Assignees []figuresView
	Times     *barChart
	Overdue   *barChart
}

// figuresTable is what the figures template gets: the page's view, the
// rows and whether they are steps or assignees.
type figuresTable struct {
	V    view
	Rows []figuresView
	Kind string
}

// figuresView is a group's decisions with its times written for people.
type figuresView struct {
	Name string
	flows.DecisionFigures
	MedianText, P90Text, OverdueText string
}

func (c *Console) analytics(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	l, zone := c.locale(r), c.zone(r)
	d := analyticsData{Flow: param(q, "flow"), Period: param(q, "period"), Periods: periods,
		From: param(q, "from"), To: param(q, "to")}
	var err error
	if d.Flows, err = c.definitions(r); err != nil {
		c.fail(w, r, err)
		return
	}
	from, to, ok := c.period(&d, zone)
	if !ok {
		d.Error = tr(l, "an.bad_period", maxCustomDays)
		c.render(w, r, http.StatusBadRequest, "analytics", "analytics", d)
		return
	}
	res, err := c.d.Engine.Analytics(ctx, flows.AnalyticsQuery{From: from, To: to, FlowID: d.Flow})
	if errors.Is(err, flows.ErrAnalyticsTooLarge) {
		d.Error = tr(l, "an.too_large")
		c.render(w, r, http.StatusOK, "analytics", "analytics", d)
		return
	} else if err != nil {
		c.fail(w, r, err)
		return
	}
	// To is exclusive: the last day shown is the one before it when the
	// period ends at a midnight.
	last := res.To.In(zone)
	if d.Period == "custom" {
		last = last.AddDate(0, 0, -1)
	}
	d.Shown = res.From.In(zone).Format(time.DateOnly) + " – " + last.Format(time.DateOnly)
	for _, f := range res.Flows {
		d.Rows = append(d.Rows, flowViewOf(f, l))
	}
	c.render(w, r, http.StatusOK, "analytics", "analytics", d)
}

// period reads the chosen period: the last 7, 30 or 90 days up to now, or
// whole days from–to in zone (also when dates come without a period). ok is false for a custom period that is not
// one of at most maxCustomDays days.
func (c *Console) period(d *analyticsData, zone *time.Location) (from, to time.Time, ok bool) {
	now := c.now()
	if d.Period == "" && (d.From != "" || d.To != "") {
		d.Period = "custom" // dates typed without choosing the period
	}
	if d.Period != "custom" {
		days, err := strconv.Atoi(d.Period)
		if err != nil || !slices.Contains(periods, days) {
			d.Period = defaultPeriod
			days, _ = strconv.Atoi(defaultPeriod)
		}
		return now.AddDate(0, 0, -days), now, true
	}
	f, err1 := time.ParseInLocation(time.DateOnly, d.From, zone)
	t, err2 := time.ParseInLocation(time.DateOnly, d.To, zone)
	if err1 != nil || err2 != nil || t.Before(f) || t.Sub(f) >= maxCustomDays*24*time.Hour {
		return time.Time{}, time.Time{}, false
	}
	return f, t.AddDate(0, 0, 1), true
}

func flowViewOf(f flows.FlowAnalytics, l string) flowView {
	v := flowView{FlowAnalytics: f}
	for _, s := range f.Steps {
		v.Steps = append(v.Steps, figuresOf(s.Name, s.Decisions, l))
	}
	for _, a := range f.Assignees {
		name := a.Name
		if name != a.UserID {
			name += " (" + a.UserID + ")"
		}
		v.Assignees = append(v.Assignees, figuresOf(name, a.Decisions, l))
	}
	v.Times = timesChart(f, l)
	v.Overdue = overdueChart(f, l)
	return v
}

func figuresOf(name string, d flows.DecisionFigures, l string) figuresView {
	v := figuresView{Name: name, DecisionFigures: d, MedianText: "—", P90Text: "—", OverdueText: "—"}
	if d.Decided > 0 {
		v.MedianText, v.P90Text = humanDuration(d.Median, l), humanDuration(d.P90, l)
	}
	if d.Due > 0 {
		v.OverdueText = overdueText(d)
	}
	return v
}

// humanDuration writes d to the minute for people: "1小时36分" or
// "1h 36m", days past a day, "<1分" / "<1m" under a minute.
func humanDuration(d time.Duration, l string) string {
	m := int64(d.Round(time.Minute) / time.Minute)
	if m < 1 {
		return tr(l, "dur.less")
	}
	days, hours, mins := m/(24*60), m/60%24, m%60
	var parts []string
	if days > 0 {
		parts = append(parts, tr(l, "dur.d", days))
	}
	if hours > 0 {
		parts = append(parts, tr(l, "dur.h", hours))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, tr(l, "dur.m", mins))
	}
	sep := ""
	if l == localeEN {
		sep = " "
	}
	out := parts[0]
	for _, p := range parts[1:] {
		out += sep + p
	}
	return out
}

// overdueText writes the share of tasks with a due time that went past
// it, with the counts: "40% (2/5)".
func overdueText(d flows.DecisionFigures) string {
	return fmt.Sprintf("%s (%d/%d)", percent(d.OverdueShare), d.Overdue, d.Due)
}

// percent writes a share (0.4) as a percentage ("40%", "33.3%").
func percent(share float64) string {
	p := share * 100
	if p == float64(int64(p)) {
		return strconv.FormatInt(int64(p), 10) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

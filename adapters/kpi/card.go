package kpi

import (
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"cardflow/bot"
	"cardflow/flows"
)

// FiguresCard shows figures to a reader: in their language, the period in
// their zone, each value with its change against the period before and,
// for days, the same day a week earlier. Image is left for a chart.
func FiguresCard(figs []Figure, title string, r bot.Reader) bot.Card {
	en := r.Locale == bot.LocaleEN
	zone := r.Zone
	if zone == nil {
		zone = China
	}
	c := bot.Card{Subject: "kpi", Status: bot.StatusInfo, Title: title}
	if len(figs) == 0 {
		return c
	}
	p := figs[0].Period
	c.Subject = "kpi-" + string(p) + "-" + figs[0].From.In(zone).Format("20060102")
	c.Subtitle = PeriodText(p, figs[0].From, figs[0].To, zone, en)
	cols := map[Period][2]string{Day: {"较前一日", "vs day before"}, Week: {"较上周", "vs last week"}, Month: {"较上月", "vs last month"}}[p]
	t := bot.Table{Columns: []string{pick(en, "指标", "KPI"), pick(en, "数值", "Value"), pick(en, cols[0], cols[1])}}
	if p == Day {
		t.Columns = append(t.Columns, pick(en, "较上周同日", "vs a week ago"))
	}
	var notes []string
	for _, f := range figs {
		row := []string{pick(en, f.KPI.Label, f.KPI.LabelEN), Format(f.Now, f.KPI.Unit, en), Change(f.Now, f.Prev)}
		if p == Day {
			row = append(row, Change(f.Now, f.WeekAgo))
		}
		t.Rows = append(t.Rows, row)
		if n := note(f.KPI, en); n != "" && !slices.Contains(notes, n) {
			notes = append(notes, n)
		}
	}
	c.Tables = []bot.Table{t}
	c.Note = strings.Join(notes, " ")
	return c
}

func pick(en bool, zh, english string) string {
	if en {
		return english
	}
	return zh
}

// note says how a measure is counted where a reader could read it
// otherwise.
func note(d Definition, en bool) string {
	switch d.Measure {
	case MeasureRefundRate, MeasureRefundAmount:
		return pick(en, "退款按付款日统计：当期付款的订单中已退款的部分。",
			"Refunds count by payment day: the orders paid in the period that were refunded.")
	case MeasureTurnoverDays:
		return pick(en, "库存周转天数：近 30 天日末在库件数的平均值 ÷ 日均销售件数。",
			"Turnover days: the average pieces on hand at each day's end over 30 days ÷ pieces sold per day.")
	case MeasureApprovalHours:
		return pick(en, "审批时效：当期处理的审批从到达到处理用时的中位数。",
			"Approval time: the median time from a task's arrival to its decision, over the period's decisions.")
	case MeasureApprovalOverdueRate:
		return pick(en, "审批超时率：有时限的审批中，超时处理或至今超时未处理的占比。",
			"Overdue rate: of the tasks with a time limit, the share decided late or still open past it.")
	case MeasureGMV:
		return pick(en, "GMV：当期下单订单的商品金额，含未付款和已取消的。",
			"GMV: the goods value of the orders placed in the period, unpaid and cancelled ones included.")
	}
	return ""
}

// PeriodText names a period in a reader's zone: 11月29日, 11月23日–11月29日,
// 2026年11月 (11/29, 11/23–11/29, 2026/11).
func PeriodText(p Period, from, to time.Time, zone *time.Location, en bool) string {
	from, last := from.In(zone), to.In(zone).AddDate(0, 0, -1)
	day := func(t time.Time) string { return t.Format(pick(en, "1月2日", "1/2")) }
	switch p {
	case Week:
		return day(from) + "–" + day(last)
	case Month:
		return from.Format(pick(en, "2006年1月", "2006/01"))
	}
	return day(from)
}

// Format writes a value in its unit: ¥6,800.00, 1,234, 4.2%, 3.25,
// 12.5 天; — when unknown.
func Format(v Value, u Unit, en bool) string {
	if !v.Known {
		return "—"
	}
	switch u {
	case UnitMoney:
		return flows.FormatMoney(v.V)
	case UnitPercent:
		return v.V.Mul(hundred).StringFixed(1) + "%"
	case UnitRatio:
		return v.V.StringFixed(2)
	case UnitDays:
		return v.V.StringFixed(1) + pick(en, " 天", " days")
	case UnitHours:
		if v.V.Abs().LessThan(decimal.NewFromInt(1)) {
			// Under an hour in minutes: a 2-minute approval is not 0.0 小时.
			mins := v.V.Mul(decimal.NewFromInt(60)).Round(0)
			if mins.Abs().LessThan(decimal.NewFromInt(1)) {
				return pick(en, "不到 1 分钟", "under a minute")
			}
			return mins.String() + pick(en, " 分钟", " min")
		}
		return v.V.StringFixed(1) + pick(en, " 小时", " hours")
	}
	return flows.GroupThousands(v.V.Round(0).String())
}

// Change writes the change from before to now: ↑12.3%, ↓4.0%, 0.0%; —
// when either is unknown or before is zero.
func Change(now, before Value) string {
	if !now.Known || !before.Known || before.V.IsZero() {
		return "—"
	}
	pct := now.V.Sub(before.V).Div(before.V.Abs()).Mul(hundred).Round(1)
	switch pct.Sign() {
	case 1:
		return "↑" + pct.StringFixed(1) + "%"
	case -1:
		return "↓" + pct.Abs().StringFixed(1) + "%"
	}
	return "0.0%"
}

package kpi_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"cardflow/adapters/kpi"
	"cardflow/configs"
	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// exampleFile is configs/kpis.example.yaml, checked against the example
// flows.
func exampleFile(t *testing.T) *kpi.File {
	t.Helper()
	data, err := fs.ReadFile(configs.Examples, "kpis.example.yaml")
	require.NoError(t, err)
	f, err := kpi.Parse("kpis.example.yaml", data)
	require.NoError(t, err)
	byID := map[string]*flows.Flow{}
	for _, fl := range exampletest.Flows(t) {
		byID[fl.ID] = fl
	}
	require.NoError(t, f.Check(func(id string) (*flows.Flow, bool) { fl, ok := byID[id]; return fl, ok }))
	return f
}

func TestParseExample(t *testing.T) {
	t.Parallel()
	f := exampleFile(t)
	require.Equal(t, []string{"sales", "gmv", "orders", "aov", "refund_rate", "gross_margin", "turnover_days",
		"douyin_sales", "ad_spend", "roi", "visitors", "conversion", "approval_hours", "approval_overdue_rate"}, f.Names())
	d, ok := f.KPI("refund_rate")
	require.True(t, ok)
	require.Equal(t, kpi.UnitPercent, d.Unit, "implied by the measure")
	d, _ = f.KPI("douyin_sales")
	require.Equal(t, kpi.Filter{Platform: "douyin"}, d.Filter())

	require.Len(t, f.Alerts, 2)
	a := f.Alerts[0]
	require.Equal(t, "refund_rate_high", a.Name)
	require.Equal(t, kpi.Day, a.Period)
	require.True(t, decimal.RequireFromString("0.05").Equal(*a.Above), "5%% is kept as a fraction, got %s", a.Above)
	require.Nil(t, a.Below)
	require.Equal(t, "kpi.threshold", a.Event, "set by Check from the flow's trigger")
	require.Equal(t, "Asia/Shanghai", a.Zone.String())

	for i := range f.Digests {
		require.Equal(t, "Asia/Shanghai", f.Digests[i].Zone.String())
		f.Digests[i].Zone = nil
	}
	require.Equal(t, []kpi.Digest{
		{Name: "morning", Cron: "0 9 * * *", To: []string{"role:gm", "role:sales_director"},
			KPIs: []string{"sales", "orders", "aov", "refund_rate", "gross_margin", "roi"}, Chart: "sales",
			Period: "yesterday", Line: 49},
		{Name: "evening", Cron: "0 21 * * *", To: []string{"role:gm", "role:sales_director"},
			KPIs: []string{"sales", "orders", "aov", "refund_rate", "approval_hours", "approval_overdue_rate"}, Chart: "sales",
			Period: "today", Line: 55},
		{Name: "weekly", Cron: "0 9 * * 1", To: []string{"u_wang"},
			KPIs: []string{"sales", "gmv", "turnover_days", "roi"}, Chart: "sales", Period: "last_week", Line: 61},
	}, f.Digests)
}

func TestParseReportsEveryProblemWithItsLine(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/bad.yaml")
	require.NoError(t, err)
	_, err = kpi.Parse("testdata/bad.yaml", data)
	require.Error(t, err)
	want := []string{
		`testdata/bad.yaml:3: KPI sales: named twice (first at line 2)`,
		`testdata/bad.yaml:4: a KPI needs a name of lower-case letters, digits and _ (got "Bad-Name")`,
		`testdata/bad.yaml:5: KPI nothing: needs exactly one of measure, metric, expr`,
		`testdata/bad.yaml:6: KPI two: needs exactly one of measure, metric, expr`,
		`testdata/bad.yaml:7: KPI spend: needs a unit (money, count, percent, ratio, days, hours)`,
		`testdata/bad.yaml:8: KPI roi: expr: no KPI named missing`,
		`testdata/bad.yaml:9: KPI loop_a: expr: a cycle (loop_a → loop_b → loop_a)`,
		`testdata/bad.yaml:11: expr: only + - * / and parentheses over KPI names and numbers (not len("x"))`,
		`testdata/bad.yaml:12: KPI wrong_unit: unit: a refund_rate is in percent`,
		`testdata/bad.yaml:13: KPI turn: stock is not kept per platform or shop: turnover_days takes no platform or shop`,
		`testdata/bad.yaml:14: measure: unknown "profit" (one of gmv, sales, orders, units, aov, refund_rate, refund_amount, gross_margin, turnover_days, approval_hours, approval_overdue_rate)`,
		`testdata/bad.yaml:14: a KPI: unknown key "colour" (expected name, label, label_en, measure, metric, expr, platform, shop, flow, unit, roles)`,
		`testdata/bad.yaml:16: alert refund_rate_day: no KPI named refund_rate`,
		`testdata/bad.yaml:17: period: "fortnight" is not day, week or month`,
		`testdata/bad.yaml:17: alert rate: sales is not a percent: write its threshold as a number`,
		`testdata/bad.yaml:18: an alert needs above or below: its threshold`,
		`testdata/bad.yaml:19: below: "lots" is not a number such as 1000 or 5%`,
		`testdata/bad.yaml:19: alert rate: named twice (first at line 17); give each a name`,
		`testdata/bad.yaml:21: digest morning: no KPI named margin`,
		`testdata/bad.yaml:22: cron: "0 25 * * *": end of range (25) above maximum (23): 25`,
		`testdata/bad.yaml:23: zone: "Mars/Olympus" is not an IANA time zone such as Asia/Shanghai`,
		`testdata/bad.yaml:24: to: "chat:feishu": not a user id, role:<role> or chat:<platform>:<chat id>`,
		`testdata/bad.yaml:24: to: "a b": not a user id, role:<role> or chat:<platform>:<chat id>`,
		`testdata/bad.yaml:26: period: "fortnight" is not yesterday, today, last_week or last_month`,
		`testdata/bad.yaml:27: cron: give the zone as zone, not in the schedule`,
		`testdata/bad.yaml:27: digest evening: no KPI named nope`,
		`testdata/bad.yaml:28: a digest needs name, cron, to and kpis`,
		`testdata/bad.yaml:29: unknown key "colour" (expected kpis, alerts, digests)`,
	}
	require.Equal(t, want, strings.Split(err.Error(), "\n"))
}

func TestParseEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{name: "empty file", yaml: ""},
		{name: "not a mapping", yaml: "- a\n", wantErr: "f.yaml:1: expected a mapping with kpis, alerts and digests"},
		{name: "a section not a list", yaml: "kpis: {a: 1}\n", wantErr: "f.yaml:1: kpis: expected a list"},
		{name: "an item not a mapping", yaml: "kpis:\n  - sales\n", wantErr: "f.yaml:2: a KPI: expected a mapping"},
		{name: "a key twice", yaml: "kpis:\n  - {name: a, label: A, measure: gmv, measure: sales}\n",
			wantErr: "f.yaml:2: a KPI: measure given twice"},
		{name: "a self-reference", yaml: "kpis:\n  - {name: a, label: A, expr: a + 1, unit: count}\n",
			wantErr: "f.yaml:2: KPI a: expr: a cycle (a → a)"},
		{name: "an expr that does not parse", yaml: "kpis:\n  - {name: a, label: A, expr: 'sales /', unit: count}\n",
			wantErr: "f.yaml:2: expr: unexpected token EOF (1:7)"},
		{name: "a percent threshold as a number", yaml: "kpis:\n  - {name: r, label: R, measure: refund_rate}\n" +
			"alerts:\n  - {kpi: r, period: day, above: 0.05, flow: kpi_alert}\n",
			wantErr: "f.yaml:4: alert r_day: r is a percent: write its threshold as a percent such as 5%"},
		{name: "label_en defaults to label", yaml: "kpis:\n  - {name: a, label: 销售, measure: sales}\n"},
		{name: "a flow on an order measure", yaml: "kpis:\n  - {name: a, label: A, measure: sales, flow: purchase}\n",
			wantErr: "f.yaml:2: KPI a: flow narrows only approval_hours and approval_overdue_rate"},
		{name: "a platform on an approval measure", yaml: "kpis:\n  - {name: a, label: A, measure: approval_hours, platform: jd}\n",
			wantErr: "f.yaml:2: KPI a: approvals are not per platform or shop: approval_hours takes a flow instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := kpi.Parse("f.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			for _, d := range f.KPIs {
				require.Equal(t, d.Label, d.LabelEN)
			}
		})
	}
}

func TestCheckRefusesFlowsThatCannotTakeTheAlert(t *testing.T) {
	t.Parallel()
	f, err := kpi.Parse("f.yaml", []byte("kpis:\n  - {name: s, label: S, measure: sales}\nalerts:\n"+
		"  - {kpi: s, period: day, above: 1, flow: purchase_request}\n  - {kpi: s, period: week, above: 1, flow: oversell_alert}\n"+
		"  - {kpi: s, period: month, above: 1, flow: nope}\n"))
	require.NoError(t, err)
	byID := map[string]*flows.Flow{}
	for _, fl := range exampletest.Flows(t) {
		byID[fl.ID] = fl
	}
	err = f.Check(func(id string) (*flows.Flow, bool) { fl, ok := byID[id]; return fl, ok })
	require.EqualError(t, err, strings.Join([]string{
		"f.yaml:4: flow: purchase_request is not an alert flow opened by an event",
		"f.yaml:5: flow: oversell_alert has no form field rule, which the alert fills",
		"f.yaml:5: flow: oversell_alert has no form field kpi, which the alert fills",
		"f.yaml:5: flow: oversell_alert has no form field period, which the alert fills",
		"f.yaml:5: flow: oversell_alert has no form field value, which the alert fills",
		"f.yaml:5: flow: oversell_alert has no form field threshold, which the alert fills",
		`f.yaml:6: flow: no flow "nope"`,
	}, "\n"))
}

package console

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/internal/exampletest"
)

// boxes reads the diagram's step boxes: their x and y by step id.
func boxes(t *testing.T, svg string) map[string][2]float64 {
	t.Helper()
	re := regexp.MustCompile(`<g class="node[^"]*" data-step="([^"]+)"><rect x="([0-9.]+)" y="([0-9.]+)"`)
	out := map[string][2]float64{}
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		x, err := strconv.ParseFloat(m[2], 64)
		require.NoError(t, err)
		y, err := strconv.ParseFloat(m[3], 64)
		require.NoError(t, err)
		out[m[1]] = [2]float64{x, y}
	}
	return out
}

func exampleFlow(t *testing.T, id string) *flows.Flow {
	t.Helper()
	for _, f := range exampletest.Flows(t) {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no example flow %s", id)
	return nil
}

// TestDiagramLayout: steps go top-down in order; a parallel step's
// branches stand side by side between its fork and join; a condition's
// cases are labelled edges; every text is escaped.
func TestDiagramLayout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		flow  string
		check func(t *testing.T, svg string, at map[string][2]float64)
	}{
		{name: "in order", flow: "order_fulfilment", check: func(t *testing.T, svg string, at map[string][2]float64) {
			require.Less(t, at["START"][1], at["finance_confirm"][1])
			require.Less(t, at["finance_confirm"][1], at["director"][1])
			require.Less(t, at["director"][1], at["pack"][1])
			require.Less(t, at["pack"][1], at["END"][1])
			require.Equal(t, at["finance_confirm"][0], at["pack"][0], "one column")
			require.Contains(t, svg, `>skip</text>`, "the director step has a when: and a skip edge")
			require.Contains(t, svg, `aria-label="订单履约 v1"`)
		}},
		{name: "branches side by side", flow: "campaign_launch", check: func(t *testing.T, svg string, at map[string][2]float64) {
			cs, stock := at["cs_script"], at["stock_check"]
			require.Equal(t, cs[1], stock[1], "the branches start on one row")
			require.Less(t, cs[0], stock[0], "the first branch on the left")
			join := at["prepare\x00join"]
			require.Greater(t, join[1], cs[1], "the join below the branches")
			require.Less(t, at["prepare"][1], cs[1], "the fork above them")
		}},
		{name: "condition cases", flow: "return_exchange", check: func(t *testing.T, svg string, at map[string][2]float64) {
			require.Contains(t, svg, `results.qc.passed &amp;&amp; form.kind == &#34;退货&#34;`, "the case is a label, escaped")
			require.Contains(t, svg, `>default</text>`)
			require.NotContains(t, svg, `<script`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := exampleFlow(t, tt.flow)
			svg := string(flowSVG(f, nil, f.Name+" v1", "en"))
			require.True(t, strings.HasPrefix(svg, `<svg xmlns="http://www.w3.org/2000/svg" role="img"`))
			at := boxes(t, svg)
			require.Contains(t, at, "START")
			require.Contains(t, at, "END")
			tt.check(t, svg, at)
		})
	}
}

// TestChangedSteps: of two versions, the steps one lacks or has otherwise
// are highlighted on each side.
func TestChangedSteps(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../../configs/flows/order_fulfilment.yaml")
	require.NoError(t, err)
	v1, err := flows.ParseFlow("order_fulfilment.yaml", src)
	require.NoError(t, err)
	changed := strings.Replace(string(src), "sla: 4h", "sla: 6h", 1)
	require.NotEqual(t, string(src), changed, "the fixture edits the pack step's SLA")
	v2, err := flows.ParseFlow("order_fulfilment.yaml", []byte(changed))
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"pack": true}, changedSteps(v2, v1))
	require.Equal(t, map[string]bool{"pack": true}, changedSteps(v1, v2))
	require.Empty(t, changedSteps(v1, v1))
	svg := string(flowSVG(v2, changedSteps(v2, v1), "v2", "en"))
	require.Contains(t, svg, `<g class="node changed" data-step="pack">`)
	require.NotContains(t, svg, `<g class="node changed" data-step="director">`)
}

// TestDiagramSpeaksTheReadersLanguage: the boxes and edges are in the
// reader's words; the assignee rules stay as the flow file writes them.
func TestDiagramSpeaksTheReadersLanguage(t *testing.T) {
	t.Parallel()
	read := func(name string) *flows.Flow {
		src, err := os.ReadFile("../../configs/flows/" + name)
		require.NoError(t, err)
		f, err := flows.ParseFlow(name, src)
		require.NoError(t, err)
		return f
	}
	order, campaign := read("order_fulfilment.yaml"), read("campaign_launch.yaml")
	tests := []struct {
		name, locale string
		f            *flows.Flow
		want, not    []string
	}{
		{name: "zh-CN", locale: "zh-CN", f: order, want: []string{">开始 · 由 order.created 触发<", ">结束<", ">条件不满足时跳过<",
			"审批 · 或签 · role: finance · 时限 2h", "办理 · role: warehouse · 时限 4h", ">财务确认<"}},
		{name: "en", locale: "en", f: order, want: []string{">start · on order.created<", ">end<", ">skip<",
			"approval · any · role: finance · SLA 2h", "task · role: warehouse · SLA 4h", ">Finance check<"}, not: []string{"财务确认"}},
		{name: "zh-CN parallel", locale: "zh-CN", f: campaign, want: []string{">客服<", ">汇合<", ">各分支均已完成<", ">客服话术<"},
			not: []string{"all branches done"}},
		{name: "en parallel", locale: "en", f: campaign, want: []string{">Customer service<", ">join<", ">all branches done<",
			">Customer service script<"}, not: []string{">客服<", "客服话术"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svg := string(flowSVG(tt.f, nil, "alt", tt.locale))
			for _, w := range tt.want {
				require.Contains(t, svg, w)
			}
			for _, w := range tt.not {
				require.NotContains(t, svg, w)
			}
		})
	}
}

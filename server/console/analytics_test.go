package console_test

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// analyticsStart is when the analytics test's day begins: Monday 09:00 in
// China, the operator's zone.
var analyticsStart = time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// decide has user approve (or reject) their open task of instance.
func (b *bundle) decide(instance, user string, approve bool) {
	b.t.Helper()
	open, err := b.store.Tasks(b.t.Context(), flows.TaskFilter{InstanceID: instance, Assignee: user, Status: flows.TaskOpen})
	require.NoError(b.t, err)
	require.Len(b.t, open, 1)
	req := flows.DecideRequest{Actor: user, TaskID: open[0].ID, Comment: "ok"}
	if approve {
		_, err = b.engine.Approve(b.t.Context(), req)
	} else {
		_, err = b.engine.Reject(b.t.Context(), req)
	}
	require.NoError(b.t, err)
}

// row returns the table row of the page named name (the first one: a
// step's comes before an assignee's) with its cells' figures by data-k.
func row(t *testing.T, body, name string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<tr data-name="` + regexp.QuoteMeta(name) + `">(.*?)</tr>`).FindStringSubmatch(body)
	require.NotNil(t, m, "a row %s", name)
	cells := map[string]string{}
	for _, c := range regexp.MustCompile(`data-k="(\w+)">([^<]*)`).FindAllStringSubmatch(m[1], -1) {
		cells[c[1]] = c[2]
	}
	return cells
}

// TestAnalyticsPage: two orders on a known clock — A (¥6,800) approved by
// 钱 after 1h and now with the director, B (¥3,000) rejected by 钱 after
// 3h, 1h past finance's 2h SLA — show their figures, charts and alt text
// for each period; a period without data says so.
func TestAnalyticsPage(t *testing.T) {
	t.Parallel()
	b := setupAt(t, analyticsStart)
	a := b.startOrder("6800.00")
	bb := b.startOrder("3000.00")
	b.clock.Advance(time.Hour)
	b.decide(a, "u_qian", true)
	b.clock.Advance(2 * time.Hour)
	b.decide(bb, "u_qian", false)
	b.clock.Advance(36 * time.Minute)

	br := b.visitor()
	br.login()
	tests := []struct {
		name    string
		path    string
		status  int
		want    []string
		finance map[string]string
	}{
		{name: "default: 30 days", path: "/console/analytics", status: http.StatusOK,
			want: []string{`<option value="30" selected>最近 30 天</option>`, "统计范围：2026-10-03 – 2026-11-02",
				`data-k="started">2</td>`, `data-k="rejected">1</td>`, `data-k="running">1</td>`,
				`aria-label="订单履约 各步骤处理时长（中位数与 P90）：财务确认 中位数 2小时，P90 2小时48分"`,
				`aria-label="订单履约 各步骤超时率：财务确认 50% (1/2)；销售总监审批 0% (0/1)"`,
				`aria-current="page">审批效率</a>`},
			finance: map[string]string{"decided": "2", "approved": "1", "rejected": "1", "returned": "0",
				"median": "2小时", "p90": "2小时48分", "overdue": "50% (1/2)", "open": "0"}},
		{name: "last 7 days, one flow", path: "/console/analytics?period=7&flow=order_fulfilment", status: http.StatusOK,
			want:    []string{`<option value="7" selected>`, "统计范围：2026-10-26 – 2026-11-02"},
			finance: map[string]string{"decided": "2", "median": "2小时", "p90": "2小时48分"}},
		{name: "custom day", path: "/console/analytics?period=custom&from=2026-11-02&to=2026-11-02", status: http.StatusOK,
			want:    []string{"统计范围：2026-11-02 – 2026-11-02"},
			finance: map[string]string{"decided": "2", "overdue": "50% (1/2)"}},
		{name: "english", path: "/console/analytics?period=90", status: http.StatusOK,
			want:    []string{"Period: 2026-08-04 – 2026-11-02", `aria-label="订单履约, time to decide per step (median and P90): 财务确认 median 2h, P90 2h 48m"`},
			finance: map[string]string{"median": "2h", "p90": "2h 48m"}},
		{name: "dates without a period", path: "/console/analytics?from=2026-11-01&to=2026-11-02", status: http.StatusOK,
			want:    []string{`<option value="custom" selected>`, "统计范围：2026-11-01 – 2026-11-02"},
			finance: map[string]string{"decided": "2"}},
		{name: "a month before", path: "/console/analytics?period=custom&from=2026-10-01&to=2026-10-31", status: http.StatusOK,
			want: []string{`id="an-empty"`, "这段时间没有审批数据"}},
		{name: "another flow", path: "/console/analytics?flow=leave", status: http.StatusOK,
			want: []string{`id="an-empty"`}},
		{name: "end before start", path: "/console/analytics?period=custom&from=2026-11-05&to=2026-11-01", status: http.StatusBadRequest,
			want: []string{`id="an-error"`, "请填写有效的开始和结束日期：结束不早于开始，最长 366 天"}},
		{name: "not a date", path: "/console/analytics?period=custom&from=yesterday&to=2026-11-01", status: http.StatusBadRequest,
			want: []string{`id="an-error"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{}
			if tt.name == "english" {
				hdr = []string{"Cookie", "cf_console_lang=en"}
			}
			p := br.do(http.MethodGet, tt.path, nil, hdr...)
			require.Equal(t, tt.status, p.status, p.body)
			for _, w := range tt.want {
				require.Contains(t, p.body, w)
			}
			if tt.finance == nil {
				require.NotContains(t, p.body, `data-flow="order_fulfilment"`)
				return
			}
			got := row(t, p.body, "财务确认")
			for k, v := range tt.finance {
				require.Equal(t, v, got[k], k)
			}
			require.Equal(t, got, row(t, p.body, "钱多多 (u_qian)"), "钱 decided every finance task")
			director := row(t, p.body, "销售总监审批")
			require.Equal(t, "—", director["median"])
			require.Equal(t, "1", director["open"])
		})
	}
}

package flows_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
	"cardflow/storage/sqlite"
)

// route is a forecast in short: "step:status:people" per step.
func route(fc flows.Forecast) []string {
	out := make([]string, len(fc.Steps))
	for i, s := range fc.Steps {
		ids := make([]string, len(s.People))
		for j, p := range s.People {
			ids[j] = p.ID
		}
		out[i] = s.ID + ":" + s.Status + ":" + strings.Join(ids, ",")
	}
	return out
}

func step(t *testing.T, fc flows.Forecast, id string) flows.ForecastStep {
	t.Helper()
	for _, s := range fc.Steps {
		if s.ID == id {
			return s
		}
	}
	require.Failf(t, "no such step in the forecast", "%s in %v", id, route(fc))
	return flows.ForecastStep{}
}

func TestForecast(t *testing.T) {
	t.Parallel()
	// The example org's proxy: u_wang acts for the sales director u_zhou
	// from 2027-02-01 to 2027-02-08 on order_fulfilment.
	onLeave := time.Date(2027, 2, 3, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		flow      string
		applicant string
		form      map[string]any
		at        time.Time
		want      []string
		complete  bool
		check     func(t *testing.T, fc flows.Forecast)
	}{
		{name: "500 needs finance only", flow: "order_fulfilment", applicant: "u_wu", form: orderForm("500"),
			want: []string{"finance_confirm:ask:u_qian,u_sun,u_zhao", "director:not_taken:", "pack:ask:u_feng,u_zheng"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				fin := step(t, fc, "finance_confirm")
				require.Equal(t, "any", fin.Sign)
				require.Equal(t, flows.Person{ID: "u_qian", Name: "钱多多"}, fin.People[0])
				require.Equal(t, "form.amount > 5000", step(t, fc, "director").When)
				require.Equal(t, "订单金额 > 5000", step(t, fc, "director").WhenText, "as people read it")
				require.Equal(t, []flows.Person{{ID: "u_chen", Name: "陈客服主管"}, {ID: "u_chu", Name: "褚客服"}}, step(t, fc, "pack").CC)
				require.Equal(t, flows.InstanceApproved, fc.Outcome)
				require.Empty(t, step(t, fc, "director").Proxies, "no proxy outside the leave window")
			}},
		{name: "6800 needs finance then the sales director", flow: "order_fulfilment", applicant: "u_wu", form: orderForm("6800"),
			want: []string{"finance_confirm:ask:u_qian,u_sun,u_zhao", "director:ask:u_zhou", "pack:ask:u_feng,u_zheng"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				require.Equal(t, "single", step(t, fc, "director").Sign)
				require.Empty(t, step(t, fc, "pack").Sign, "a task has no sign mode")
			}},
		{name: "the director's leave proxy is shown", flow: "order_fulfilment", applicant: "u_wu", form: orderForm("6800"), at: onLeave,
			want: []string{"finance_confirm:ask:u_qian,u_sun,u_zhao", "director:ask:u_zhou", "pack:ask:u_feng,u_zheng"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				require.Equal(t, []flows.ProxyActing{{By: flows.Person{ID: "u_wang", Name: "王总"}, For: flows.Person{ID: "u_zhou", Name: "周总监"}}},
					step(t, fc, "director").Proxies)
				require.Empty(t, step(t, fc, "finance_confirm").Proxies)
			}},
		{name: "an applicant in finance approves their own 或签 step", flow: "order_fulfilment", applicant: "u_qian", form: orderForm("500"),
			want: []string{"finance_confirm:auto:u_qian,u_sun,u_zhao", "director:not_taken:", "pack:ask:u_feng,u_zheng"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				require.Equal(t, []flows.SkippedPerson{{Person: flows.Person{ID: "u_qian", Name: "钱多多"}, Reason: flows.SkipReasonApplicant}},
					step(t, fc, "finance_confirm").Skipped)
			}},
		{name: "an event's order has no applicant to skip", flow: "order_fulfilment", form: orderForm("500"),
			want: []string{"finance_confirm:ask:u_qian,u_sun,u_zhao", "director:not_taken:", "pack:ask:u_feng,u_zheng"}, complete: true},
		{name: "an approver of an earlier step is skipped", flow: "skip", applicant: "u_wu", form: map[string]any{},
			want: []string{"first:ask:u_zhao", "both:ask:u_zhao,u_qian", "last:ask:u_feng"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				both := step(t, fc, "both")
				require.Equal(t, "all", both.Sign)
				require.Equal(t, []flows.SkippedPerson{{Person: flows.Person{ID: "u_zhao", Name: "赵敏"}, Reason: flows.SkipReasonRepeated}}, both.Skipped)
			}},
		{name: "a vacant role goes to the fallback", flow: "rules", applicant: "u_wu", form: map[string]any{"who": "u_chen"},
			want: []string{"by_user:ask:u_wei", "by_role:ask:u_feng,u_zheng", "by_head:ask:u_zhou", "by_dept:ask:u_zhao",
				"by_managers:ask:u_zhou,u_wang", "by_field:ask:u_chen", "by_nobody:ask:u_shen"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				require.Equal(t, "role: ghost", step(t, fc, "by_nobody").Fallback)
			}},
		{name: "a parallel step runs every branch, then joins", flow: "campaign_launch", applicant: "u_wu",
			form: map[string]any{"campaign": "双11", "platform": "tmall", "starts_on": "2025-11-01", "ends_on": "2025-11-11",
				"budget": "200000", "plan": "https://files.example.com/plan.pdf", "expected_orders": 20},
			want: []string{"gm_approval:ask:u_wang", "prepare:fork:", "cs_script:ask:u_chen,u_chu", "stock_check:ask:u_feng,u_zheng",
				"restock:not_taken:", "stock_ready:ask:u_zheng", "live:notify:u_chen,u_chu,u_feng,u_zheng,u_jiang,u_wei,u_wang"}, complete: true,
			check: func(t *testing.T, fc flows.Forecast) {
				require.Equal(t, [2]string{"prepare", "仓库"}, [2]string{step(t, fc, "stock_ready").Parallel, step(t, fc, "stock_ready").Branch})
			}},
		{name: "a route on a task's result depends on it", flow: "return_exchange", applicant: "u_chu",
			form: map[string]any{"order_no": "JD-9", "kind": "退货", "reason": "破损", "refund_amount": "99.90"},
			want: []string{"cs_review:ask:u_chen,u_chu", "qc:ask:u_feng,u_zheng", "route_refund:depends:"}, complete: false,
			check: func(t *testing.T, fc flows.Forecast) {
				r := step(t, fc, "route_refund")
				require.Equal(t, []string{"qc"}, r.DependsOn)
				require.Equal(t, []flows.ForecastBranch{
					{When: `results.qc.passed && form.kind == "退货"`, WhenText: `仓库质检·质检通过 && 类型 == "退货"`, To: "refund", ToName: "财务退款"},
					{When: "results.qc.passed", WhenText: "仓库质检·质检通过", To: "reship", ToName: "仓库补发"},
					{Else: true, To: "notify_rejected", ToName: "质检未通过通知"},
				}, r.Branches)
				require.Empty(t, fc.Outcome)
			}},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s, flows.WithProxies(fixtureOrg.Proxies))
				if !tt.at.IsZero() {
					x.clock.Advance(tt.at.Sub(t0))
				}
				req := flows.ForecastRequest{FlowID: tt.flow, Applicant: tt.applicant, Form: tt.form}
				if tt.applicant == "" {
					req.Event = "order.created"
				}
				fc, err := x.e.Forecast(t.Context(), req)
				require.NoError(t, err)
				require.Equal(t, tt.want, route(fc))
				require.Equal(t, tt.complete, fc.Complete)
				require.Equal(t, tt.flow, fc.FlowID)
				require.Positive(t, fc.Version)
				if tt.check != nil {
					tt.check(t, fc)
				}
			})
		}
	})
}

func TestForecastRefusesWhatStartRefuses(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		tests := []struct {
			name      string
			flow      string
			applicant string
			form      map[string]any
			want      error
		}{
			{name: "invalid form", flow: "order_fulfilment", applicant: "u_wu", form: map[string]any{"order_no": "bad no", "amount": "-1"}},
			{name: "unknown applicant", flow: "order_fulfilment", applicant: "u_nobody", form: orderForm("500"), want: flows.ErrUnknownUser},
			{name: "unknown flow", flow: "no_such_flow", applicant: "u_wu", form: orderForm("500"), want: flows.ErrNotFound},
			{name: "an alert flow", flow: "oversell_alert", applicant: "u_wu", form: map[string]any{}, want: flows.ErrNotApplicable},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				_, startErr := x.e.Start(t.Context(), flows.StartRequest{Actor: tt.applicant, FlowID: tt.flow, Form: tt.form})
				_, err := x.e.Forecast(t.Context(), flows.ForecastRequest{Applicant: tt.applicant, FlowID: tt.flow, Form: tt.form})
				require.Error(t, startErr)
				require.Error(t, err)
				if tt.want != nil {
					require.ErrorIs(t, startErr, tt.want)
					require.ErrorIs(t, err, tt.want)
				}
				var startFE, fe *flows.FormError
				require.Equal(t, errors.As(startErr, &startFE), errors.As(err, &fe))
				if fe != nil {
					require.Equal(t, startFE.Error(), fe.Error(), "the same problems in the same words")
				}
				require.Equal(t, strings.Replace(startErr.Error(), "flows: start ", "flows: forecast ", 1), err.Error())
			})
		}
	})
}

// TestForecastWritesNothing counts every table's rows around forecasts,
// and around a start to show that the count sees a write.
func TestForecastWritesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cardflow.db")
	s, err := sqlite.Open(t.Context(), path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	seed(t, s)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	counts := func() map[string]int {
		rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table'`)
		require.NoError(t, err)
		var tables []string
		for rows.Next() {
			var name string
			require.NoError(t, rows.Scan(&name))
			tables = append(tables, name)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		out := map[string]int{}
		for _, name := range tables {
			var n int
			require.NoError(t, db.QueryRowContext(t.Context(), `SELECT count(*) FROM "`+name+`"`).Scan(&n))
			out[name] = n
		}
		return out
	}
	x := newFx(t, s, flows.WithProxies(fixtureOrg.Proxies))
	before := counts()
	require.Contains(t, before, "idempotency")
	for _, req := range []flows.ForecastRequest{
		{FlowID: "order_fulfilment", Applicant: "u_wu", Form: orderForm("6800")},
		{FlowID: "order_fulfilment", Applicant: "u_qian", Form: orderForm("500")},
		{FlowID: "skip", Applicant: "u_wu", Form: map[string]any{}},
		{FlowID: "return_exchange", Applicant: "u_chu", Form: map[string]any{"order_no": "JD-9", "kind": "换货", "reason": "破损", "refund_amount": "1"}},
	} {
		_, err := x.e.Forecast(t.Context(), req)
		require.NoError(t, err)
	}
	require.Equal(t, before, counts(), "a forecast writes nothing")

	_, err = x.e.Start(t.Context(), flows.StartRequest{Actor: "u_wu", Key: "k1", FlowID: "order_fulfilment", Form: orderForm("6800")})
	require.NoError(t, err)
	after := counts()
	for _, table := range []string{"instances", "tasks", "audit", "outbox", "timers", "idempotency"} {
		require.Greater(t, after[table], before[table], table)
	}
}

// TestForecastMatchesARealRun starts each forecast for real and decides
// every step in favour: the steps that open, and who they open for, are
// the forecast's, and the instance ends as it said.
func TestForecastMatchesARealRun(t *testing.T) {
	t.Parallel()
	pack := map[string]any{"tracking_no": "SF1", "carrier": "sf"}
	tests := []struct {
		name, flow, applicant string
		form                  map[string]any
		results               map[string]map[string]any
	}{
		{name: "a large order", flow: "order_fulfilment", applicant: "u_wu", form: orderForm("6800"), results: map[string]map[string]any{"pack": pack}},
		{name: "an order finance files", flow: "order_fulfilment", applicant: "u_qian", form: orderForm("500"), results: map[string]map[string]any{"pack": pack}},
		{name: "auto-skip", flow: "skip", applicant: "u_wu", form: map[string]any{}},
		{name: "auto-skip of the applicant", flow: "skip", applicant: "u_zhao", form: map[string]any{}},
		{name: "assignee rules", flow: "rules", applicant: "u_wu", form: map[string]any{"who": "u_chen"}},
		{name: "会签", flow: "sign_all", applicant: "u_wu", form: map[string]any{}},
		{name: "依次审批", flow: "sign_seq", applicant: "u_wu", form: map[string]any{}},
		{name: "percent", flow: "sign_percent", applicant: "u_wu", form: map[string]any{}},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				fc, err := x.e.Forecast(t.Context(), flows.ForecastRequest{FlowID: tt.flow, Applicant: tt.applicant, Form: tt.form})
				require.NoError(t, err)
				var want []string
				for _, st := range fc.Steps {
					if st.Status != flows.ForecastAsk {
						continue
					}
					var ids []string
					for _, p := range st.People {
						if !slices.ContainsFunc(st.Skipped, func(k flows.SkippedPerson) bool { return k.ID == p.ID }) {
							ids = append(ids, p.ID)
						}
					}
					slices.Sort(ids)
					want = append(want, st.ID+":"+strings.Join(ids, ","))
				}
				f, err := x.e.Flow(t.Context(), tt.flow, 0)
				require.NoError(t, err)
				inst := x.start(tt.flow, tt.applicant, tt.form)
				// Each step as it ran, with everyone it opened for (依次审批
				// opens one after another).
				var steps []string
				people := map[string][]string{}
				for i := 0; x.status(inst) == flows.InstanceRunning; i++ {
					require.Less(t, i, 50, "the run does not end")
					open := x.open(inst)
					require.NotEmpty(t, open)
					step, first, _ := strings.Cut(open[0], ":")
					if len(steps) == 0 || steps[len(steps)-1] != step {
						steps = append(steps, step)
					}
					for _, o := range open {
						if s, u, _ := strings.Cut(o, ":"); s == step && !slices.Contains(people[step], u) {
							people[step] = append(people[step], u)
						}
					}
					if f.Step(step).Type == flows.StepTask {
						x.complete(inst, step, first, tt.results[step])
					} else {
						x.approve(inst, step, first)
					}
				}
				var got []string
				for _, st := range steps {
					slices.Sort(people[st])
					got = append(got, st+":"+strings.Join(people[st], ","))
				}
				require.Equal(t, want, got)
				require.True(t, fc.Complete)
				require.Equal(t, fc.Outcome, x.status(inst))
			})
		}
	})
}

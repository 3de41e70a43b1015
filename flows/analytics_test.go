package flows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// TestAnalytics runs a known day of sign_single (审批 by u_qian with a 2h
// SLA, then 办理 by u_feng) and one sign_any instance through the engine
// on a fake clock, and checks every figure exactly.
func TestAnalytics(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		form := map[string]any{"note": "n"}
		// A: approved after 1h, completed after another 1h.
		a := x.start("sign_single", "u_wu", form)
		// E: 或签 approved by u_qian after 1h; the other signers' tasks
		// are closed without a decision and not counted.
		e := x.start("sign_any", "u_wu", form)
		x.clock.Advance(time.Hour)
		x.approve(a, "s", "u_qian")
		x.approve(e, "s", "u_qian")
		x.clock.Advance(time.Hour)
		x.complete(a, "next", "u_feng", nil)
		// B (t0+2h): rejected after 3h, 1h past its SLA.
		b := x.start("sign_single", "u_wu", form)
		x.clock.Advance(3 * time.Hour)
		x.reject(b, "s", "u_qian")
		// C (t0+5h): approved after 30m, returned to 审批 after 2h, and
		// open there since t0+7h30, due at t0+9h30.
		c := x.start("sign_single", "u_wu", form)
		x.clock.Advance(30 * time.Minute)
		x.approve(c, "s", "u_qian")
		x.clock.Advance(2 * time.Hour)
		x.returnTo(c, "next", "u_feng", "s")
		// D (t0+10h): open, not due yet.
		x.clock.Advance(150 * time.Minute)
		x.start("sign_single", "u_wu", form)
		x.clock.Advance(time.Minute)

		got, err := x.e.Analytics(t.Context(), flows.AnalyticsQuery{From: t0})
		require.NoError(t, err)
		now := t0.Add(10*time.Hour + time.Minute)
		require.True(t, got.From.Equal(t0))
		require.True(t, got.To.Equal(now))
		require.True(t, got.Now.Equal(now))

		qianS := flows.DecisionFigures{Decided: 3, Approved: 2, Rejected: 1, Median: time.Hour,
			P90: 2*time.Hour + 36*time.Minute, Due: 5, Overdue: 2, OverdueShare: 0.4, Open: 2, OpenOverdue: 1}
		fengNext := flows.DecisionFigures{Decided: 2, Approved: 1, Returned: 1, Median: 90 * time.Minute,
			P90: time.Hour + 54*time.Minute}
		single := flows.FlowAnalytics{FlowID: "sign_single", Name: "会签测试 sign_single",
			Instances: flows.InstanceFigures{Started: 4, Finished: 1, Rejected: 1, Running: 2, Returns: 1},
			Decisions: flows.DecisionFigures{Decided: 5, Approved: 3, Rejected: 1, Returned: 1, Median: time.Hour,
				P90: 2*time.Hour + 36*time.Minute, Due: 5, Overdue: 2, OverdueShare: 0.4, Open: 2, OpenOverdue: 1},
			Steps: []flows.StepAnalytics{
				{StepID: "s", Name: "审批", Decisions: qianS,
					Assignees: []flows.AssigneeFigures{{UserID: "u_qian", Name: "钱多多", Decisions: qianS}}},
				{StepID: "next", Name: "办理", Decisions: fengNext,
					Assignees: []flows.AssigneeFigures{{UserID: "u_feng", Name: "冯拣货", Decisions: fengNext}}},
			},
			Assignees: []flows.AssigneeFigures{
				{UserID: "u_feng", Name: "冯拣货", Decisions: fengNext},
				{UserID: "u_qian", Name: "钱多多", Decisions: qianS},
			},
		}
		anyS := flows.DecisionFigures{Decided: 1, Approved: 1, Median: time.Hour, P90: time.Hour, Due: 1}
		anyNext := flows.DecisionFigures{Open: 1}
		signAny := flows.FlowAnalytics{FlowID: "sign_any", Name: "会签测试 sign_any",
			Instances: flows.InstanceFigures{Started: 1, Running: 1},
			Decisions: flows.DecisionFigures{Decided: 1, Approved: 1, Median: time.Hour, P90: time.Hour, Due: 1, Open: 1},
			Steps: []flows.StepAnalytics{
				{StepID: "s", Name: "审批", Decisions: anyS,
					Assignees: []flows.AssigneeFigures{{UserID: "u_qian", Name: "钱多多", Decisions: anyS}}},
				{StepID: "next", Name: "办理", Decisions: anyNext,
					Assignees: []flows.AssigneeFigures{{UserID: "u_feng", Name: "冯拣货", Decisions: anyNext}}},
			},
			Assignees: []flows.AssigneeFigures{
				{UserID: "u_feng", Name: "冯拣货", Decisions: anyNext},
				{UserID: "u_qian", Name: "钱多多", Decisions: anyS},
			},
		}
		require.Equal(t, []flows.FlowAnalytics{signAny, single}, got.Flows)
		require.Equal(t, flows.DecisionFigures{Decided: 6, Approved: 4, Rejected: 1, Returned: 1, Median: time.Hour,
			P90: 2*time.Hour + 30*time.Minute, Due: 6, Overdue: 2, OverdueShare: 2.0 / 6, Open: 3, OpenOverdue: 1}, got.Decisions)

		tests := []struct {
			name              string
			q                 flows.AnalyticsQuery
			flows             []string
			started, decided  int64
			open, openOverdue int64
		}{
			// B's rejection (t0+5h), C's approval and return; C and D
			// started. E's task open since t0+1h is still open.
			{name: "a later period", q: flows.AnalyticsQuery{From: t0.Add(3 * time.Hour)},
				flows: []string{"sign_any", "sign_single"}, started: 2, decided: 3, open: 3, openOverdue: 1},
			// Only A: its approval; no task of then is open now.
			{name: "an earlier period of one flow", q: flows.AnalyticsQuery{From: t0, To: t0.Add(90 * time.Minute), FlowID: "sign_single"},
				flows: []string{"sign_single"}, started: 1, decided: 1},
			{name: "a flow without instances", q: flows.AnalyticsQuery{FlowID: "skip"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got, err := x.e.Analytics(t.Context(), tc.q)
				require.NoError(t, err)
				var ids []string
				var started int64
				for _, f := range got.Flows {
					ids = append(ids, f.FlowID)
					started += f.Instances.Started
				}
				require.Equal(t, tc.flows, ids)
				require.Equal(t, tc.started, started)
				require.Equal(t, tc.decided, got.Decisions.Decided)
				require.Equal(t, tc.open, got.Decisions.Open)
				require.Equal(t, tc.openOverdue, got.Decisions.OpenOverdue)
			})
		}

		_, err = x.e.Analytics(t.Context(), flows.AnalyticsQuery{From: now, To: now})
		require.True(t, errors.Is(err, flows.ErrAnalyticsPeriod), "%v", err)
	})
}

package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func TestListAlerts(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		resolved := x.alert("stock.oversell", oversell("SKU-1", "hz-1"), false).InstanceID
		x.clock.Advance(time.Second)
		acked := x.alert("stock.oversell", oversell("SKU-2", "bj-1"), false).InstanceID
		x.clock.Advance(time.Second)
		snoozed := x.alert("stock.oversell", oversell("SKU-3", "sh-1"), false).InstanceID
		x.clock.Advance(time.Second)
		x.start("purchase_request", "u_feng", purchaseForm("600")) // not an alert
		x.clock.Advance(5 * time.Second)
		require.Equal(t, 3, x.fire("w"), "group_wait is over: the three groups are paged")
		x.clock.Advance(time.Second)
		waiting := x.alert("stock.oversell", oversell("SKU-4", "gz-1"), false).InstanceID

		x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Resolve(t.Context(), flows.AlertActionRequest{Actor: "u_feng", TaskID: x.task(resolved, "page", "u_feng").ID})
		})
		x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Acknowledge(t.Context(), flows.AlertActionRequest{Actor: "u_zheng", TaskID: x.task(acked, "page", "u_zheng").ID})
		})
		until := x.clock.Now().Add(30 * time.Minute)
		x.alertAct(func(e *flows.Engine) (flows.Result, error) {
			return e.Snooze(t.Context(), flows.AlertActionRequest{Actor: "u_feng", TaskID: x.task(snoozed, "page", "u_feng").ID, Until: until})
		})

		tests := []struct {
			name  string
			query flows.AlertQuery
			want  []string // id:state
		}{
			{
				name:  "not resolved by default",
				query: flows.AlertQuery{Viewer: "u_shen"},
				want:  []string{waiting + ":open", snoozed + ":snoozed", acked + ":acknowledged"},
			},
			{name: "resolved", query: flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateResolved}, want: []string{resolved + ":resolved"}},
			{name: "snoozed", query: flows.AlertQuery{Viewer: "u_feng", State: flows.AlertStateSnoozed}, want: []string{snoozed + ":snoozed"}},
			{name: "open", query: flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateOpen}, want: []string{waiting + ":open"}},
			{name: "a flow with none", query: flows.AlertQuery{Viewer: "u_shen", FlowID: "kpi_alert"}, want: nil},
			{name: "a flow that is no alert flow", query: flows.AlertQuery{Viewer: "u_shen", FlowID: "purchase_request"}, want: nil},
			{
				name:  "created from",
				query: flows.AlertQuery{Viewer: "u_shen", FlowID: "oversell_alert", From: t0.Add(2 * time.Second)},
				want:  []string{waiting + ":open", snoozed + ":snoozed"},
			},
			{name: "a page of one", query: flows.AlertQuery{Viewer: "u_shen", Limit: 1}, want: []string{waiting + ":open"}},
			{name: "a viewer without a task sees none", query: flows.AlertQuery{Viewer: "u_jiang"}, want: nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				page, err := x.e.ListAlerts(t.Context(), tc.query)
				require.NoError(t, err)
				var got []string
				for _, a := range page.Alerts {
					got = append(got, a.Instance.ID+":"+string(a.State))
				}
				require.Equal(t, tc.want, got)
			})
		}

		page, err := x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateSnoozed})
		require.NoError(t, err)
		require.Len(t, page.Alerts, 1)
		a := page.Alerts[0]
		require.Equal(t, "超卖告警", a.FlowName)
		require.Equal(t, "page", a.Step)
		require.Equal(t, "仓库值班告警", a.StepName)
		require.Equal(t, map[string]string{"warehouse": "sh-1"}, a.Group)
		require.Equal(t, 1, a.Firing)
		require.Len(t, a.Alerts, 1)
		require.Equal(t, "SKU-3/sh-1", a.Alerts[0].Key)
		require.Equal(t, []string{"u_feng", "u_zheng"}, a.Paged)
		require.Equal(t, "u_feng", a.SnoozedBy)
		require.True(t, until.Equal(a.SnoozedUntil))
		require.Nil(t, a.Instance.State, "the engine's state stays inside")
		require.Empty(t, a.Task, "the administrator holds no task of it")
		page, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_zheng", State: flows.AlertStateSnoozed})
		require.NoError(t, err)
		require.Equal(t, x.task(snoozed, "page", "u_zheng").ID, page.Alerts[0].Task, "the holder's task, to act on")

		page, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateOpen})
		require.NoError(t, err)
		require.Empty(t, page.Alerts[0].Paged, "nobody is paged during group_wait")
		require.True(t, page.Alerts[0].PagedAt.IsZero())

		page, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateAcknowledged})
		require.NoError(t, err)
		require.Equal(t, "u_zheng", page.Alerts[0].AckBy)

		// The snooze ends: the alert is open again.
		x.clock.Advance(31 * time.Minute)
		page, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_shen", State: flows.AlertStateOpen})
		require.NoError(t, err)
		require.Len(t, page.Alerts, 2)

		_, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "u_shen", State: "closed"})
		require.ErrorIs(t, err, flows.ErrInvalidInput)
		_, err = x.e.ListAlerts(t.Context(), flows.AlertQuery{Viewer: "nobody"})
		require.ErrorIs(t, err, flows.ErrUnknownUser)
	})
}

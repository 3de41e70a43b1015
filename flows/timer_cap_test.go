package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

var capFlows = map[string]string{
	// Reminders every 10m after a 1h SLA, at most 3; escalation after 30m.
	"sla_capped": slaFlow("sla_capped", "[{user: u_qian}]", "sign: any",
		"{remind_every: 10m, remind_max: 3, escalate_after: 30m, escalate_to: {role: finance_lead}}"),
}

func TestRemindersStopAtTheirCap(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		x.register(capFlows)
		inst := x.start("sla_capped", "u_wu", nil)
		x.clock.Advance(time.Hour) // the deadline: the first reminder
		require.Equal(t, 1, x.fire("a"))
		x.clock.Advance(10 * time.Minute)
		require.Equal(t, 1, x.fire("a"))
		x.clock.Advance(10 * time.Minute)
		require.Equal(t, 1, x.fire("a"))
		require.Equal(t, []string{"reminder:u_qian", "reminder:u_qian", "reminder:u_qian"}, x.intentsOf(inst, flows.NotifyReminder))
		x.clock.Advance(9 * time.Minute)
		require.Zero(t, x.fire("a"), "three reminders were sent: no fourth")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), 3)
	})
}

func TestEscalatedAssigneeGetsAFreshSLA(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		x.register(capFlows)
		inst := x.start("sla_capped", "u_wu", nil)
		x.clock.Advance(time.Hour)
		require.Equal(t, 1, x.fire("a")) // reminder 1 to u_qian
		x.clock.Advance(30 * time.Minute)
		require.Equal(t, 2, x.fire("a"), "reminder 2 (due at 1h10m, fired late) and the escalation at 1h30m")
		require.Equal(t, []string{"s:u_zhao"}, x.open(inst))
		escalated := x.task(inst, "s", "u_zhao")
		require.Equal(t, x.clock.Now().Add(time.Hour), escalated.DueAt, "the escalated task falls due one SLA from the escalation")

		before := len(x.intentsOf(inst, flows.NotifyReminder))
		x.clock.Advance(59 * time.Minute)
		require.Zero(t, x.fire("a"), "no reminders to the escalated assignee inside their own SLA")
		x.clock.Advance(time.Minute)
		require.Equal(t, 1, x.fire("a"))
		got := x.intentsOf(inst, flows.NotifyReminder)
		require.Equal(t, []string{"reminder:u_zhao"}, got[before:], "their reminders start at their own deadline")
		for range 2 {
			x.clock.Advance(10 * time.Minute)
			require.Equal(t, 1, x.fire("a"))
		}
		x.clock.Advance(time.Hour)
		require.Zero(t, x.fire("a"), "the escalated run of reminders is capped too")
		require.Len(t, x.intentsOf(inst, flows.NotifyReminder), before+3)
	})
}

func TestSLAScale(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s, flows.WithSLAScale(60))
		x.register(capFlows)
		inst := x.start("sla_capped", "u_wu", nil)
		require.Equal(t, x.clock.Now().Add(time.Minute), x.task(inst, "s", "u_qian").DueAt, "a 1h SLA takes 1m at scale 60")
		x.clock.Advance(time.Minute)
		require.Equal(t, 1, x.fire("a"))
		x.clock.Advance(10 * time.Second)
		require.Equal(t, 1, x.fire("a"), "10m reminders come every 10s")
		x.clock.Advance(20 * time.Second)
		require.Equal(t, 2, x.fire("a"), "reminder 3 and the escalation after 30m/60")
		require.Equal(t, []string{"s:u_zhao"}, x.open(inst))
	})
}

func TestEditsOfHiddenFieldsStayHidden(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		x.register(map[string]string{"edit_hidden": joinLines(
			"id: edit_hidden",
			"name: 改价",
			"form: [{key: price, type: money, required: true}, {key: note, type: string}]",
			"steps:",
			"  - {id: check, type: approval, assignees: {user: u_qian}, fields: {price: editable, note: editable}}",
			"  - {id: pack, type: task, assignees: {user: u_feng}, fields: {price: hidden}}",
		)})
		inst := x.start("edit_hidden", "u_wu", map[string]any{"price": "10", "note": "a"})
		_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: x.task(inst, "check", "u_qian").ID,
			Edits: map[string]any{"price": "12.5", "note": "b"}})
		require.NoError(t, err)
		detail := func(viewer string) string {
			v, err := x.e.Instance(t.Context(), viewer, inst)
			require.NoError(t, err)
			for _, e := range v.Audit {
				if e.Action == "approve" {
					return string(e.Detail)
				}
			}
			return ""
		}
		require.JSONEq(t, `{"changes":[{"field":"note","old":"a","new":"b"},{"field":"price","old":"10.00","new":"12.50"}]}`, detail("u_wu"))
		require.JSONEq(t, `{"changes":[{"field":"note","old":"a","new":"b"}]}`, detail("u_feng"), "the packer may not see the price")
	})
}

package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func TestSignModes(t *testing.T) {
	t.Parallel()
	type decision struct {
		user    string
		approve bool
	}
	yes := func(u string) decision { return decision{u, true} }
	no := func(u string) decision { return decision{u, false} }
	tests := []struct {
		name        string
		flow        string
		decisions   []decision
		wantOpen    []string
		wantWaiting []string
		wantStatus  flows.InstanceStatus
	}{
		{name: "any: everyone is asked at once", flow: "sign_any",
			wantOpen: []string{"s:u_qian", "s:u_sun", "s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "any: the first approval passes the step", flow: "sign_any", decisions: []decision{yes("u_sun")},
			wantOpen: []string{"next:u_feng"}, wantStatus: flows.InstanceRunning},
		{name: "any: the first rejection rejects", flow: "sign_any", decisions: []decision{no("u_zhao")},
			wantStatus: flows.InstanceRejected},
		{name: "single: the one approver decides", flow: "sign_single", decisions: []decision{yes("u_qian")},
			wantOpen: []string{"next:u_feng"}, wantStatus: flows.InstanceRunning},
		{name: "all: waits for everyone", flow: "sign_all", decisions: []decision{yes("u_qian"), yes("u_sun")},
			wantOpen: []string{"s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "all: passes when everyone approved", flow: "sign_all", decisions: []decision{yes("u_qian"), yes("u_zhao"), yes("u_sun")},
			wantOpen: []string{"next:u_feng"}, wantStatus: flows.InstanceRunning},
		{name: "all: one rejection rejects", flow: "sign_all", decisions: []decision{yes("u_qian"), no("u_sun")},
			wantStatus: flows.InstanceRejected},
		{name: "percent 60 of 4: two approvals are not enough", flow: "sign_percent", decisions: []decision{yes("u_qian"), yes("u_sun")},
			wantOpen: []string{"s:u_wang", "s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "percent 60 of 4: three approvals pass", flow: "sign_percent", decisions: []decision{yes("u_qian"), no("u_wang"), yes("u_sun"), yes("u_zhao")},
			wantOpen: []string{"next:u_feng"}, wantStatus: flows.InstanceRunning},
		{name: "percent 60 of 4: one rejection leaves it reachable", flow: "sign_percent", decisions: []decision{no("u_qian")},
			wantOpen: []string{"s:u_sun", "s:u_wang", "s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "percent 60 of 4: two rejections make it unreachable", flow: "sign_percent", decisions: []decision{no("u_qian"), no("u_sun")},
			wantStatus: flows.InstanceRejected},
		{name: "sequential: only the first signer is asked", flow: "sign_seq",
			wantOpen: []string{"s:u_qian"}, wantWaiting: []string{"s:u_sun", "s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "sequential: the next signer is asked after an approval", flow: "sign_seq", decisions: []decision{yes("u_qian")},
			wantOpen: []string{"s:u_sun"}, wantWaiting: []string{"s:u_zhao"}, wantStatus: flows.InstanceRunning},
		{name: "sequential: passes after the last signer", flow: "sign_seq", decisions: []decision{yes("u_qian"), yes("u_sun"), yes("u_zhao")},
			wantOpen: []string{"next:u_feng"}, wantStatus: flows.InstanceRunning},
		{name: "sequential: a rejection on the way rejects", flow: "sign_seq", decisions: []decision{yes("u_qian"), no("u_sun")},
			wantStatus: flows.InstanceRejected},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start(tt.flow, "u_wu", nil)
				for _, d := range tt.decisions {
					if d.approve {
						x.approve(inst, "s", d.user)
					} else {
						x.reject(inst, "s", d.user)
					}
				}
				require.Equal(t, tt.wantOpen, x.open(inst))
				require.Equal(t, tt.wantWaiting, x.withStatus(inst, flows.TaskWaiting))
				require.Equal(t, tt.wantStatus, x.status(inst))
				x.checkInvariants(inst)
			})
		}
	})
}

// TestAnyClosesTheOthers checks what the losers of a 或签 see: their task is
// closed with the winner's decision, so a late click answers "already
// approved by X at T", and their card is told to update.
func TestAnyClosesTheOthers(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("sign_any", "u_wu", nil)
		late := x.task(inst, "s", "u_qian")
		x.clock.Advance(time.Minute)
		won := x.approve(inst, "s", "u_sun")

		res, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: late.ID})
		require.NoError(t, err)
		require.True(t, res.AlreadyDecided)
		require.Equal(t, "approve", res.Outcome)
		require.Equal(t, "u_sun", res.By)
		require.True(t, won.At.Equal(res.At))
		require.Equal(t, won.Version, res.Version, "the late click changed nothing")

		closed, err := s.Task(t.Context(), late.ID)
		require.NoError(t, err)
		require.Equal(t, flows.TaskCancelled, closed.Status)
		require.Equal(t, []string{"task_closed:u_qian", "task_closed:u_zhao"}, x.intentsOf(inst, flows.NotifyTaskClosed))

		// Rejecting the closed task answers the same, it does not reject.
		res, err = x.e.Reject(t.Context(), flows.DecideRequest{Actor: "u_zhao", TaskID: x.last(inst, "s", "u_zhao").ID, Comment: "晚了"})
		require.NoError(t, err)
		require.True(t, res.AlreadyDecided)
		require.Equal(t, flows.InstanceRunning, x.status(inst))
	})
}

func TestAutoSkip(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		// u_qian applies: step first asks u_zhao; step both would ask
		// u_zhao again (already approved) and u_qian (the applicant).
		inst := x.start("skip", "u_qian", nil)
		require.Equal(t, []string{"first:u_zhao"}, x.open(inst))
		x.approve(inst, "first", "u_zhao")
		require.Equal(t, []string{"last:u_feng"}, x.open(inst))

		var reasons []string
		for _, task := range x.tasks(inst) {
			if task.StepID == "both" {
				require.Equal(t, flows.TaskApproved, task.Status)
				require.Equal(t, flows.SystemActor, task.DecidedBy)
				reasons = append(reasons, task.Assignee+": "+task.Comment)
			}
		}
		require.ElementsMatch(t, []string{"u_zhao: " + flows.SkipRepeated, "u_qian: " + flows.SkipApplicant}, reasons)
		require.Equal(t, []string{"start", "assign:first", "approve", "pass:first",
			"auto_approve:both", "auto_approve:both", "assign:both", "pass:both", "assign:last"}, x.actions(inst))
		require.Equal(t, []string{"task_assigned:u_zhao", "task_assigned:u_feng"}, x.intentsOf(inst, flows.NotifyTaskAssigned),
			"nobody is asked to approve what the system approved")
	})
}

func TestAssigneeRules(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		inst := x.start("rules", "u_chu", map[string]any{"who": "u_jiang"})
		steps := []struct {
			step  string
			users []string
		}{
			{"by_user", []string{"u_wei"}},
			{"by_role", []string{"u_feng", "u_zheng"}},
			{"by_head", []string{"u_chen"}},               // head of the applicant's department
			{"by_dept", []string{"u_zhao"}},               // head of finance
			{"by_managers", []string{"u_chen", "u_wang"}}, // two levels up
			{"by_field", []string{"u_jiang"}},             // the form's user field
			{"by_nobody", []string{"u_shen"}},             // the fallback: the admin role
		}
		for _, st := range steps {
			var want []string
			for _, u := range st.users {
				want = append(want, st.step+":"+u)
			}
			require.Equal(t, want, x.open(inst), st.step)
			for _, u := range st.users {
				x.approve(inst, st.step, u)
			}
		}
		require.Equal(t, flows.InstanceApproved, x.status(inst))
		require.Contains(t, x.actions(inst), "fallback:by_nobody", "the audit trail says why the admin got the task")

		_, err := x.e.Start(t.Context(), flows.StartRequest{Actor: "u_chu", FlowID: "no_fallback"})
		require.ErrorIs(t, err, flows.ErrNoAssignee)
	})
}

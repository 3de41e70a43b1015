package flows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

func TestTransfer(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("the new holder takes the seat", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			old := x.task(inst, "s", "u_qian")
			res, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_qian", TaskID: old.ID, To: "u_wei", Comment: "休假"})
			require.NoError(t, err)
			require.Len(t, res.Opened, 1)
			require.Equal(t, []string{"s:u_sun", "s:u_wei", "s:u_zhao"}, x.open(inst))
			closed := x.last(inst, "s", "u_qian")
			require.Equal(t, flows.TaskCancelled, closed.Status)
			require.Equal(t, "transfer", closed.Outcome)
			assigned := x.intents(inst)
			last := assigned[len(assigned)-1]
			require.Equal(t, flows.NotifyTaskAssigned, last.Kind)
			require.Equal(t, "u_wei", last.Recipient)
			require.Equal(t, flows.CauseTransfer, last.Cause)
			for _, u := range []string{"u_wei", "u_sun", "u_zhao"} {
				x.approve(inst, "s", u)
			}
			require.Equal(t, []string{"next:u_feng"}, x.open(inst), "the transferred seat counts once")
			x.checkInvariants(inst)
		})
		tests := []struct {
			name  string
			actor string
			to    string
			want  error
		}{
			{name: "to someone deciding the same step", actor: "u_qian", to: "u_sun", want: flows.ErrInvalidTarget},
			{name: "to oneself", actor: "u_qian", to: "u_qian", want: flows.ErrInvalidTarget},
			{name: "to an unknown user", actor: "u_qian", to: "u_nobody", want: flows.ErrInvalidTarget},
			{name: "by someone else", actor: "u_sun", to: "u_wei", want: flows.ErrNotAssignee},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start("sign_all", "u_wu", nil)
				_, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: tt.actor, TaskID: x.task(inst, "s", "u_qian").ID, To: tt.to})
				require.ErrorIs(t, err, tt.want)
			})
		}
		t.Run("a decided task", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			task := x.task(inst, "s", "u_qian")
			x.approve(inst, "s", "u_qian")
			_, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_qian", TaskID: task.ID, To: "u_wei"})
			require.ErrorIs(t, err, flows.ErrAlreadyDecided)
		})
	})
}

func TestDelegate(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		delegate := func(x *fx, inst, step, from, to string) flows.Task {
			x.t.Helper()
			_, err := x.e.Delegate(x.t.Context(), flows.HandOverRequest{Actor: from, TaskID: x.task(inst, step, from).ID, To: to})
			require.NoError(x.t, err)
			d := x.task(inst, step, to)
			require.Equal(x.t, from, d.OwnerID)
			require.Equal(x.t, flows.TaskWaiting, x.task(inst, step, from).Status)
			return d
		}
		t.Run("comes back to the owner, who decides", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_any", "u_wu", nil)
			delegate(x, inst, "s", "u_qian", "u_wei")
			_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_qian", TaskID: x.task(inst, "s", "u_qian").ID})
			require.ErrorIs(t, err, flows.ErrTaskNotOpen, "the owner waits for the delegate")

			res, err := x.e.Reject(t.Context(), flows.DecideRequest{Actor: "u_wei", TaskID: x.task(inst, "s", "u_wei").ID, Comment: "建议驳回"})
			require.NoError(t, err)
			require.Equal(t, flows.InstanceRunning, res.Status, "a delegate's rejection is advice")
			advice := x.last(inst, "s", "u_wei")
			require.Equal(t, flows.TaskDone, advice.Status)
			require.Equal(t, "reject", advice.Outcome)
			require.Equal(t, []string{"s:u_qian", "s:u_sun", "s:u_zhao"}, x.open(inst))
			back := x.intents(inst)
			require.Equal(t, flows.CauseResumed, back[len(back)-1].Cause)
			require.Equal(t, "u_qian", back[len(back)-1].Recipient)

			x.approve(inst, "s", "u_qian")
			require.Equal(t, []string{"next:u_feng"}, x.open(inst))
			x.checkInvariants(inst)
		})
		t.Run("a task step's delegate completes, then the owner", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("order_fulfilment", "u_wu", orderForm("10"))
			x.approve(inst, "finance_confirm", "u_qian")
			delegate(x, inst, "pack", "u_feng", "u_chu")
			x.complete(inst, "pack", "u_chu", map[string]any{"tracking_no": "SF1", "carrier": "sf"})
			require.Equal(t, flows.InstanceRunning, x.status(inst))
			x.complete(inst, "pack", "u_feng", map[string]any{"tracking_no": "SF1", "carrier": "sf"})
			require.Equal(t, flows.InstanceApproved, x.status(inst))
		})
		t.Run("only the owner may hand on or return", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_any", "u_wu", nil)
			d := delegate(x, inst, "s", "u_qian", "u_wei")
			_, err := x.e.Transfer(t.Context(), flows.HandOverRequest{Actor: "u_wei", TaskID: d.ID, To: "u_chu"})
			require.ErrorIs(t, err, flows.ErrNotApplicable)
			_, err = x.e.Delegate(t.Context(), flows.HandOverRequest{Actor: "u_wei", TaskID: d.ID, To: "u_chu"})
			require.ErrorIs(t, err, flows.ErrNotApplicable)
			_, err = x.e.Return(t.Context(), flows.ReturnRequest{Actor: "u_wei", TaskID: d.ID, To: flows.ReturnToApplicant, Comment: "x"})
			require.ErrorIs(t, err, flows.ErrNotApplicable)
		})
		t.Run("closed with its owner's seat when another approver wins", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_any", "u_wu", nil)
			d := delegate(x, inst, "s", "u_qian", "u_wei")
			x.approve(inst, "s", "u_sun")
			got, err := s.Task(t.Context(), d.ID)
			require.NoError(t, err)
			require.Equal(t, flows.TaskCancelled, got.Status)
			require.Contains(t, x.intentsOf(inst, flows.NotifyTaskClosed), "task_closed:u_wei")
			x.checkInvariants(inst)
		})
	})
}

func TestAddSigner(t *testing.T) {
	t.Parallel()
	add := func(x *fx, inst, user string, pos flows.SignerPosition, users ...string) (flows.Result, error) {
		return x.e.AddSigner(x.t.Context(), flows.AddSignerRequest{Actor: user, TaskID: x.task(inst, "s", user).ID, Users: users, Position: pos})
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("before: the holder waits for the added signers", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_single", "u_wu", nil)
			_, err := add(x, inst, "u_qian", flows.SignBefore, "u_wei", "u_chu")
			require.NoError(t, err)
			require.Equal(t, []string{"s:u_chu", "s:u_wei"}, x.open(inst))
			require.Equal(t, []string{"s:u_qian"}, x.withStatus(inst, flows.TaskWaiting))
			x.approve(inst, "s", "u_wei")
			require.Equal(t, []string{"s:u_chu"}, x.open(inst), "still waiting for the second added signer")
			x.approve(inst, "s", "u_chu")
			require.Equal(t, []string{"s:u_qian"}, x.open(inst))
			x.approve(inst, "s", "u_qian")
			require.Equal(t, []string{"next:u_feng"}, x.open(inst))
			x.checkInvariants(inst)
		})
		t.Run("before: an added signer's rejection rejects", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_single", "u_wu", nil)
			_, err := add(x, inst, "u_qian", flows.SignBefore, "u_wei")
			require.NoError(t, err)
			x.reject(inst, "s", "u_wei")
			require.Equal(t, flows.InstanceRejected, x.status(inst))
			x.checkInvariants(inst)
		})
		t.Run("after in 或签: the holder approves, the step waits for the added signer", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_any", "u_wu", nil)
			res, err := add(x, inst, "u_qian", flows.SignAfter, "u_wei")
			require.NoError(t, err)
			require.Equal(t, "approve", res.Outcome)
			require.Equal(t, []string{"s:u_wei"}, x.open(inst), "the other 或签 approvers are not needed any more")
			x.approve(inst, "s", "u_wei")
			require.Equal(t, []string{"next:u_feng"}, x.open(inst))
			x.checkInvariants(inst)
		})
		t.Run("after in 依次审批: the added signer comes next", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_seq", "u_wu", nil)
			_, err := add(x, inst, "u_qian", flows.SignAfter, "u_wei")
			require.NoError(t, err)
			require.Equal(t, []string{"s:u_wei"}, x.open(inst))
			require.Equal(t, []string{"s:u_sun", "s:u_zhao"}, x.withStatus(inst, flows.TaskWaiting))
			x.approve(inst, "s", "u_wei")
			require.Equal(t, []string{"s:u_sun"}, x.open(inst))
			x.checkInvariants(inst)
		})
		tests := []struct {
			name  string
			users []string
			pos   flows.SignerPosition
			want  error
		}{
			{name: "nobody", pos: flows.SignBefore, want: flows.ErrInvalidTarget},
			{name: "no position", users: []string{"u_wei"}, want: flows.ErrInvalidTarget},
			{name: "a signer of the step", users: []string{"u_sun"}, pos: flows.SignAfter, want: flows.ErrInvalidTarget},
			{name: "the same user twice", users: []string{"u_wei", "u_wei"}, pos: flows.SignAfter, want: flows.ErrInvalidTarget},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start("sign_all", "u_wu", nil)
				_, err := add(x, inst, "u_qian", tt.pos, tt.users...)
				require.ErrorIs(t, err, tt.want)
				require.Equal(t, []string{"s:u_qian", "s:u_sun", "s:u_zhao"}, x.open(inst))
			})
		}
		t.Run("not on a task step", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_single", "u_wu", nil)
			x.approve(inst, "s", "u_qian")
			_, err := x.e.AddSigner(t.Context(), flows.AddSignerRequest{Actor: "u_feng", TaskID: x.task(inst, "next", "u_feng").ID,
				Users: []string{"u_wei"}, Position: flows.SignAfter})
			require.ErrorIs(t, err, flows.ErrNotApplicable)
		})
	})
}

func TestRemoveSigner(t *testing.T) {
	t.Parallel()
	remove := func(x *fx, inst, actor, user string) error {
		_, err := x.e.RemoveSigner(x.t.Context(), flows.RemoveSignerRequest{Actor: actor, TaskID: x.task(inst, "s", user).ID})
		return err
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("who added a signer removes them and gets the task back", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_single", "u_wu", nil)
			_, err := x.e.AddSigner(t.Context(), flows.AddSignerRequest{Actor: "u_qian", TaskID: x.task(inst, "s", "u_qian").ID,
				Users: []string{"u_wei"}, Position: flows.SignBefore})
			require.NoError(t, err)
			require.ErrorIs(t, remove(x, inst, "u_sun", "u_wei"), flows.ErrNotAssignee)
			require.NoError(t, remove(x, inst, "u_qian", "u_wei"))
			require.Equal(t, []string{"s:u_qian"}, x.open(inst))
			require.Contains(t, x.intentsOf(inst, flows.NotifyTaskClosed), "task_closed:u_wei")
			x.checkInvariants(inst)
		})
		t.Run("an admin removes the last pending 会签 signer and the step passes", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			x.approve(inst, "s", "u_qian")
			x.approve(inst, "s", "u_sun")
			require.ErrorIs(t, remove(x, inst, "u_qian", "u_zhao"), flows.ErrNotAdmin)
			require.NoError(t, remove(x, inst, "u_shen", "u_zhao"))
			require.Equal(t, []string{"next:u_feng"}, x.open(inst))
			x.checkInvariants(inst)
		})
		t.Run("never the last signer", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_single", "u_wu", nil)
			require.ErrorIs(t, remove(x, inst, "u_shen", "u_qian"), flows.ErrInvalidTarget)
		})
		t.Run("not a decided signer", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("sign_all", "u_wu", nil)
			task := x.task(inst, "s", "u_qian")
			x.approve(inst, "s", "u_qian")
			_, err := x.e.RemoveSigner(t.Context(), flows.RemoveSignerRequest{Actor: "u_shen", TaskID: task.ID})
			require.ErrorIs(t, err, flows.ErrAlreadyDecided)
		})
	})
}

func TestProxy(t *testing.T) {
	t.Parallel()
	proxies := flows.Proxies{{User: "u_qian", By: "u_chu", From: t0, Until: t0.Add(24 * time.Hour)}}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("acts on behalf of the assignee while on leave", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s, flows.WithProxies(proxies))
			inst := x.start("sign_single", "u_wu", nil)
			require.Contains(t, x.intentsOf(inst, flows.NotifyTaskAssigned), "task_assigned:u_chu", "the proxy is told")

			todo, err := x.e.Tasks(t.Context(), flows.TaskQuery{Assignee: "u_chu"})
			require.NoError(t, err)
			var mine []flows.TaskView
			for _, v := range todo {
				if v.Task.InstanceID == inst {
					mine = append(mine, v)
				}
			}
			require.Len(t, mine, 1)
			require.Equal(t, "u_qian", mine[0].OnBehalfOf)

			res, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_chu", TaskID: mine[0].Task.ID})
			require.NoError(t, err)
			require.Equal(t, "u_qian", res.OnBehalfOf)
			entries, err := s.Audit(t.Context(), inst)
			require.NoError(t, err)
			var approve flows.AuditEntry
			for _, e := range entries {
				if e.Action == "approve" {
					approve = e
				}
			}
			require.Equal(t, "u_chu", approve.Actor)
			require.Equal(t, "u_qian", approve.OnBehalfOf)
			require.Equal(t, "u_chu", x.last(inst, "s", "u_qian").DecidedBy)
		})
		t.Run("not after the leave", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s, flows.WithProxies(proxies))
			inst := x.start("sign_single", "u_wu", nil)
			x.clock.Advance(24 * time.Hour)
			_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_chu", TaskID: x.task(inst, "s", "u_qian").ID})
			require.ErrorIs(t, err, flows.ErrNotAssignee)
		})
	})
}

func TestProxiesValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		p     flows.Proxy
		valid bool
	}{
		{name: "a leave", p: flows.Proxy{User: "a", By: "b", From: t0, Until: t0.Add(time.Hour)}, valid: true},
		{name: "no proxy", p: flows.Proxy{User: "a", From: t0, Until: t0.Add(time.Hour)}},
		{name: "oneself", p: flows.Proxy{User: "a", By: "a", From: t0, Until: t0.Add(time.Hour)}},
		{name: "an empty window", p: flows.Proxy{User: "a", By: "b", From: t0, Until: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := flows.Proxies{tt.p}.Validate()
			require.Equal(t, tt.valid, err == nil, "%v", err)
		})
	}
}

package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// The 退回 cases where Flowable and yudao are known to lose or duplicate
// tasks: a return from inside a 会签 step, and from one branch of a
// parallel step. After each return no task of the abandoned round is left
// open anywhere, and when the flow comes back each step is opened once.

func TestReturnFromCountersign(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		// toCountersign drives a 60000 purchase to its 会签 step.
		toCountersign := func(x *fx) string {
			inst := x.start("purchase_request", "u_feng", purchaseForm("60000"))
			x.approve(inst, "manager", "u_zheng")
			x.complete(inst, "purchasing", "u_wei", map[string]any{"po_no": "PO-1"})
			require.Equal(t, []string{"gm_countersign:u_wang", "gm_countersign:u_zhao"}, x.open(inst))
			return inst
		}
		t.Run("while the other signer has not decided", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := toCountersign(x)
			pending := x.task(inst, "gm_countersign", "u_wang")
			x.returnTo(inst, "gm_countersign", "u_zhao", "purchasing")

			require.Equal(t, []string{"purchasing:u_jiang", "purchasing:u_wei"}, x.open(inst), "only the target is open")
			closed := x.last(inst, "gm_countersign", "u_wang")
			require.Equal(t, pending.ID, closed.ID)
			require.Equal(t, flows.TaskCancelled, closed.Status)
			require.Equal(t, "return", closed.Outcome)
			require.Contains(t, x.intentsOf(inst, flows.NotifyTaskClosed), "task_closed:u_wang", "the GM's card is updated")

			x.complete(inst, "purchasing", "u_jiang", map[string]any{"po_no": "PO-2"})
			require.Equal(t, []string{"gm_countersign:u_wang", "gm_countersign:u_zhao"}, x.open(inst), "one new task each, no duplicate")
			require.NotEqual(t, pending.ID, x.task(inst, "gm_countersign", "u_wang").ID)
			x.approve(inst, "gm_countersign", "u_wang")
			require.Equal(t, []string{"gm_countersign:u_zhao"}, x.open(inst))
			x.approve(inst, "gm_countersign", "u_zhao")
			require.Equal(t, []string{"receipt:u_feng", "receipt:u_zheng"}, x.open(inst))
			require.Equal(t, []string{"start", "assign:manager", "approve", "pass:manager", "assign:purchasing", "complete",
				"pass:purchasing", "assign:gm_countersign", "return", "assign:purchasing", "complete", "pass:purchasing",
				"assign:gm_countersign", "approve", "approve", "pass:gm_countersign", "assign:receipt"}, x.actions(inst),
				"the audit trail tells what happened, in order")
			x.checkInvariants(inst)
		})
		t.Run("after the other signer approved", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := toCountersign(x)
			x.approve(inst, "gm_countersign", "u_wang")
			x.returnTo(inst, "gm_countersign", "u_zhao", "manager")

			require.Equal(t, []string{"manager:u_zheng"}, x.open(inst),
				"the manager's approval before the return does not auto-skip them now")
			x.approve(inst, "manager", "u_zheng")
			x.complete(inst, "purchasing", "u_wei", map[string]any{"po_no": "PO-3"})
			require.Equal(t, []string{"gm_countersign:u_wang", "gm_countersign:u_zhao"}, x.open(inst),
				"the GM's approval of the abandoned round does not count")
			x.checkInvariants(inst)
		})
		t.Run("to the applicant, who resubmits a smaller amount", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := toCountersign(x)
			x.returnTo(inst, "gm_countersign", "u_wang", flows.ReturnToApplicant)
			require.Equal(t, []string{"applicant:u_feng"}, x.open(inst))
			require.Equal(t, flows.TaskKindResubmit, x.task(inst, "applicant", "u_feng").Kind)
			require.Contains(t, x.intentsOf(inst, flows.NotifyReturned), "returned:u_feng")

			_, err := x.e.Resubmit(t.Context(), flows.ResubmitRequest{Actor: "u_wang", InstanceID: inst})
			require.ErrorIs(t, err, flows.ErrNotApplicant)
			_, err = x.e.Resubmit(t.Context(), flows.ResubmitRequest{Actor: "u_feng", InstanceID: inst, Form: map[string]any{"title": "x"}})
			require.ErrorIs(t, err, flows.ErrInvalidForm)
			_, err = x.e.Resubmit(t.Context(), flows.ResubmitRequest{Actor: "u_feng", InstanceID: inst, Form: purchaseForm("30000")})
			require.NoError(t, err)
			require.Equal(t, []string{"manager:u_zheng"}, x.open(inst), "the flow starts over")
			require.Equal(t, "采购申请 · 包材 · ¥30,000.00", x.instance(inst).Title, "the title follows the resubmitted form")
			x.approve(inst, "manager", "u_zheng")
			x.complete(inst, "purchasing", "u_wei", map[string]any{"po_no": "PO-4"})
			require.Equal(t, []string{"receipt:u_feng", "receipt:u_zheng"}, x.open(inst), "no 会签 below 50000")
			x.checkInvariants(inst)
		})
	})
}

func TestReturnFromParallelBranch(t *testing.T) {
	t.Parallel()
	form := map[string]any{"campaign": "618", "platform": "jd", "starts_on": "2025-06-01", "ends_on": "2025-06-18",
		"budget": "1000", "plan": "https://files.example.com/p.pdf", "expected_orders": 5000}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("to an earlier step of the same branch", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wu", form)
			x.approve(inst, "gm_approval", "u_wang")
			cs := x.task(inst, "cs_script", "u_chu")
			restock := x.task(inst, "restock", "u_wei")
			x.complete(inst, "stock_check", "u_feng", nil)
			x.returnTo(inst, "stock_ready", "u_zheng", "stock_check")

			require.Equal(t, []string{"cs_script:u_chen", "cs_script:u_chu", "restock:u_jiang", "restock:u_wei",
				"stock_check:u_feng", "stock_check:u_zheng"}, x.open(inst))
			require.Equal(t, cs.ID, x.task(inst, "cs_script", "u_chu").ID, "the other branches keep their tasks")
			require.Equal(t, restock.ID, x.task(inst, "restock", "u_wei").ID)

			x.complete(inst, "cs_script", "u_chu", nil)
			x.complete(inst, "restock", "u_wei", map[string]any{"po_no": "PO-9", "eta": "2025-05-30"})
			x.complete(inst, "stock_check", "u_zheng", nil)
			require.Equal(t, flows.InstanceRunning, x.status(inst))
			x.complete(inst, "stock_ready", "u_zheng", nil)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			require.Equal(t, 1, count(x.actions(inst), "join:prepare"))
			x.checkInvariants(inst)
		})
		t.Run("to the step before the parallel step", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wu", form)
			x.approve(inst, "gm_approval", "u_wang")
			x.complete(inst, "cs_script", "u_chen", nil) // this branch is done
			first := x.open(inst)
			x.returnTo(inst, "stock_check", "u_feng", "gm_approval")

			require.Equal(t, []string{"gm_approval:u_wang"}, x.open(inst), "every branch is closed, the finished one too")
			require.Len(t, first, 4)
			x.approve(inst, "gm_approval", "u_wang")
			require.Equal(t, []string{"cs_script:u_chen", "cs_script:u_chu", "restock:u_jiang", "restock:u_wei",
				"stock_check:u_feng", "stock_check:u_zheng"}, x.open(inst), "every branch runs again, each task once")

			x.complete(inst, "cs_script", "u_chen", nil)
			x.complete(inst, "restock", "u_jiang", map[string]any{"po_no": "PO-9", "eta": "2025-05-30"})
			x.complete(inst, "stock_check", "u_feng", nil)
			require.Equal(t, flows.InstanceRunning, x.status(inst), "the first round's finished branch does not count")
			x.complete(inst, "stock_ready", "u_zheng", nil)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			require.Equal(t, 1, count(x.actions(inst), "join:prepare"))
			x.checkInvariants(inst)
		})
		t.Run("to the applicant from a branch", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wu", form)
			x.approve(inst, "gm_approval", "u_wang")
			x.returnTo(inst, "restock", "u_jiang", flows.ReturnToApplicant)
			require.Equal(t, []string{"applicant:u_wu"}, x.open(inst))
			_, err := x.e.Complete(t.Context(), flows.CompleteRequest{Actor: "u_wu", TaskID: x.task(inst, "applicant", "u_wu").ID})
			require.NoError(t, err, "completing the resubmit task resubmits unchanged")
			require.Equal(t, []string{"gm_approval:u_wang"}, x.open(inst))
			x.checkInvariants(inst)
		})
	})
}

func TestReturnTargets(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("previous is the step that ran before", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("return_exchange", "u_chu", map[string]any{"order_no": "JD-1", "kind": "退货", "reason": "坏", "refund_amount": "10"})
			x.approve(inst, "cs_review", "u_chen")
			x.complete(inst, "qc", "u_zheng", map[string]any{"passed": true})
			x.returnTo(inst, "refund", "u_sun", flows.ReturnToPrevious)
			require.Equal(t, []string{"qc:u_feng", "qc:u_zheng"}, x.open(inst))
			x.returnTo(inst, "qc", "u_feng", "cs_review")
			require.Equal(t, []string{"cs_review:u_chen", "cs_review:u_chu"}, x.open(inst))
			x.checkInvariants(inst)
		})
		tests := []struct {
			name    string
			flow    string
			actor   string
			form    map[string]any
			prepare func(x *fx, inst string)
			step    string
			user    string
			to      string
			comment string
			want    error
		}{
			{name: "a step return_to does not list", flow: "order_fulfilment", actor: "u_wu", form: orderForm("100"),
				step: "finance_confirm", user: "u_qian", to: "pack", comment: "x", want: flows.ErrInvalidTarget},
			{name: "a step that was skipped", flow: "order_fulfilment", actor: "u_wu", form: orderForm("100"),
				prepare: func(x *fx, inst string) { x.approve(inst, "finance_confirm", "u_qian") },
				step:    "pack", user: "u_feng", to: "director", comment: "x", want: flows.ErrInvalidTarget},
			{name: "the applicant of an event-started instance", flow: "order_fulfilment", actor: flows.SystemActor, form: orderForm("100"),
				step: "finance_confirm", user: "u_qian", to: flows.ReturnToApplicant, comment: "x", want: flows.ErrInvalidTarget},
			{name: "previous of the first step", flow: "order_fulfilment", actor: "u_wu", form: orderForm("100"),
				step: "finance_confirm", user: "u_qian", to: flows.ReturnToPrevious, comment: "x", want: flows.ErrInvalidTarget},
			{name: "without a reason", flow: "order_fulfilment", actor: "u_wu", form: orderForm("100"),
				step: "finance_confirm", user: "u_qian", to: flows.ReturnToApplicant, comment: " ", want: flows.ErrCommentRequired},
			{name: "by someone else", flow: "order_fulfilment", actor: "u_wu", form: orderForm("100"),
				step: "finance_confirm", user: "u_qian", to: flows.ReturnToApplicant, comment: "x", want: flows.ErrNotAssignee},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start(tt.flow, tt.actor, tt.form)
				if tt.prepare != nil {
					tt.prepare(x, inst)
				}
				before := x.instance(inst).Version
				actor := tt.user
				if tt.want == flows.ErrNotAssignee {
					actor = "u_wu"
				}
				_, err := x.e.Return(t.Context(), flows.ReturnRequest{Actor: actor, TaskID: x.task(inst, tt.step, tt.user).ID, To: tt.to, Comment: tt.comment})
				require.ErrorIs(t, err, tt.want)
				require.Equal(t, before, x.instance(inst).Version, "a refused return changes nothing")
			})
		}
	})
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

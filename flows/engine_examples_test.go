package flows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cardflow/flows"
)

// The example flows of configs/flows, driven end to end through every
// branch on the example org. The oversell alert flow, driven by events and
// timers, is in alert_test.go.

func TestOrderFulfilment(t *testing.T) {
	t.Parallel()
	pack := map[string]any{"tracking_no": "SF123", "carrier": "sf"}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("5000 needs finance only", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("order_fulfilment", flows.SystemActor, orderForm("5000"))
			require.Equal(t, []string{"finance_confirm:u_qian", "finance_confirm:u_sun", "finance_confirm:u_zhao"}, x.open(inst))
			x.approve(inst, "finance_confirm", "u_sun")
			require.Equal(t, []string{"pack:u_feng", "pack:u_zheng"}, x.open(inst), "director skipped at exactly 5000")
			res := x.complete(inst, "pack", "u_feng", pack)
			require.Equal(t, flows.InstanceApproved, res.Status)
			require.Equal(t, []string{"start", "assign:finance_confirm", "approve", "pass:finance_confirm", "skip:director",
				"assign:pack", "complete", "pass:pack", "cc:pack", "end"}, x.actions(inst))
			require.Equal(t, []string{"cc:u_chen", "cc:u_chu"}, x.intentsOf(inst, flows.NotifyCC), "customer service copied on pack")
			done := x.last(inst, "pack", "u_feng")
			require.JSONEq(t, `{"tracking_no":"SF123","carrier":"sf"}`, string(done.Result))
			x.checkInvariants(inst)
		})
		t.Run("5000.01 needs the director too", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("order_fulfilment", flows.SystemActor, orderForm("5000.01"))
			x.approve(inst, "finance_confirm", "u_qian")
			require.Equal(t, []string{"director:u_zhou"}, x.open(inst))
			x.approve(inst, "director", "u_zhou")
			x.complete(inst, "pack", "u_zheng", pack)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			x.checkInvariants(inst)
		})
		t.Run("the director rejects", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("order_fulfilment", flows.SystemActor, orderForm("9000"))
			x.approve(inst, "finance_confirm", "u_zhao")
			res := x.reject(inst, "director", "u_zhou")
			require.Equal(t, flows.InstanceRejected, res.Status)
			require.Empty(t, x.open(inst))
			require.NotContains(t, x.actions(inst), "assign:pack")
			x.checkInvariants(inst)
		})
		t.Run("an invalid form is refused with every field", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			_, err := x.e.Start(t.Context(), flows.StartRequest{Event: "order.paid", FlowID: "order_fulfilment",
				Form: map[string]any{"order_no": "bad no", "amount": "-1"}})
			var fe *flows.FormError
			require.ErrorAs(t, err, &fe)
			for _, field := range []string{"order_no", "platform", "amount", "items"} {
				_, ok := fe.Problem(field)
				require.True(t, ok, field)
			}
		})
	})
}

func TestPurchaseRequest(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		run := func(t *testing.T, amount string, countersign bool) {
			x := newFx(t, s)
			inst := x.start("purchase_request", "u_feng", purchaseForm(amount))
			require.Equal(t, []string{"manager:u_zheng"}, x.open(inst))
			x.approve(inst, "manager", "u_zheng")
			require.Equal(t, []string{"purchasing:u_jiang", "purchasing:u_wei"}, x.open(inst))
			x.complete(inst, "purchasing", "u_jiang", map[string]any{"po_no": "PO-1"})
			if countersign {
				require.Equal(t, []string{"gm_countersign:u_wang", "gm_countersign:u_zhao"}, x.open(inst))
				x.approve(inst, "gm_countersign", "u_zhao")
				require.Equal(t, []string{"gm_countersign:u_wang"}, x.open(inst), "会签 waits for the GM")
				x.approve(inst, "gm_countersign", "u_wang")
			}
			require.Equal(t, []string{"receipt:u_feng", "receipt:u_zheng"}, x.open(inst))
			x.complete(inst, "receipt", "u_zheng", map[string]any{"received_qty_ok": true})
			require.Contains(t, x.intentsOf(inst, flows.NotifyCC), "cc:u_chu", "the requester form field is copied")
			x.complete(inst, "payment", "u_qian", map[string]any{"paid_amount": amount, "paid_on": "2025-12-02"})
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			require.Equal(t, countersign, contains(x.actions(inst), "pass:gm_countersign"))
			x.checkInvariants(inst)
		}
		t.Run("60000 goes through the 会签", func(t *testing.T) { t.Parallel(); run(t, "60000", true) })
		t.Run("49999.99 skips it", func(t *testing.T) { t.Parallel(); run(t, "49999.99", false) })
	})
}

func TestCampaignLaunch(t *testing.T) {
	t.Parallel()
	form := func(orders int) map[string]any {
		return map[string]any{"campaign": "双11", "platform": "tmall", "starts_on": "2025-11-01", "ends_on": "2025-11-11",
			"budget": "200000", "plan": "https://files.example.com/plan.pdf", "expected_orders": orders}
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("three branches join", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wu", form(2000))
			x.approve(inst, "gm_approval", "u_wang")
			require.Equal(t, []string{"cs_script:u_chen", "cs_script:u_chu", "restock:u_jiang", "restock:u_wei",
				"stock_check:u_feng", "stock_check:u_zheng"}, x.open(inst))
			x.complete(inst, "cs_script", "u_chu", nil)
			x.complete(inst, "stock_check", "u_feng", map[string]any{"short_skus": "SKU-9"})
			require.Equal(t, []string{"restock:u_jiang", "restock:u_wei", "stock_ready:u_zheng"}, x.open(inst))
			x.complete(inst, "restock", "u_wei", map[string]any{"po_no": "PO-7", "eta": "2025-10-30"})
			require.Equal(t, flows.InstanceRunning, x.status(inst), "the join waits for the last branch")
			x.complete(inst, "stock_ready", "u_zheng", nil)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			actions := x.actions(inst)
			require.Equal(t, []string{"join:prepare", "notify:live", "end"}, actions[len(actions)-3:])
			require.ElementsMatch(t, []string{"cc:u_chen", "cc:u_chu", "cc:u_zheng", "cc:u_feng", "cc:u_jiang", "cc:u_wei", "cc:u_wang"},
				x.intentsOf(inst, flows.NotifyCC), "the live notification reaches every role once")
			x.checkInvariants(inst)
		})
		t.Run("a branch whose steps are all skipped is done at once", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wu", form(10))
			x.approve(inst, "gm_approval", "u_wang")
			require.Equal(t, []string{"cs_script:u_chen", "cs_script:u_chu", "stock_check:u_feng", "stock_check:u_zheng"}, x.open(inst))
			x.complete(inst, "cs_script", "u_chen", nil)
			x.complete(inst, "stock_check", "u_zheng", nil)
			x.complete(inst, "stock_ready", "u_zheng", nil)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
		})
		t.Run("the gm as applicant is auto-approved", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("campaign_launch", "u_wang", form(10))
			require.Contains(t, x.open(inst), "cs_script:u_chu")
		})
	})
}

func TestReturnExchange(t *testing.T) {
	t.Parallel()
	form := func(kind string) map[string]any {
		return map[string]any{"order_no": "JD-9", "kind": kind, "reason": "破损", "refund_amount": "99.90"}
	}
	tests := []struct {
		name     string
		kind     string
		passed   bool
		wantNext string // the step after qc, "" when only a notice follows
	}{
		{name: "a returned item that passed is refunded", kind: "退货", passed: true, wantNext: "refund:u_qian"},
		{name: "an exchanged item that passed is reshipped", kind: "换货", passed: true, wantNext: "reship:u_feng"},
		{name: "an item that failed inspection ends with a notice", kind: "退货", passed: false},
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := newFx(t, s)
				inst := x.start("return_exchange", "u_chu", form(tt.kind))
				require.Equal(t, []string{"cs_review:u_chen", "cs_review:u_chu"}, x.open(inst), "auto_skip applicant is off")
				_, err := x.e.Approve(t.Context(), flows.DecideRequest{Actor: "u_chen", TaskID: x.task(inst, "cs_review", "u_chen").ID,
					Edits: map[string]any{"refund_amount": "80"}})
				require.NoError(t, err)
				require.JSONEq(t, `"80.00"`, jsonField(t, x.instance(inst).Form, "refund_amount"), "cs_review may edit the refund; money keeps its scale")
				require.Equal(t, tt.kind+" · JD-9 · ¥80.00", x.instance(inst).Title, "a title built from the form follows the edit")
				approve := x.auditOf(inst, "approve")
				require.Len(t, approve, 1)
				require.JSONEq(t, `{"changes":[{"field":"refund_amount","old":"99.90","new":"80.00"}]}`, string(approve[0].Detail),
					"the edit is audited with its old and new value (修改记录)")
				x.complete(inst, "qc", "u_feng", map[string]any{"passed": tt.passed})
				if tt.wantNext == "" {
					require.Equal(t, flows.InstanceApproved, x.status(inst))
					require.ElementsMatch(t, []string{"cc:u_chen", "cc:u_chu"}, x.intentsOf(inst, flows.NotifyCC))
					return
				}
				require.Contains(t, x.open(inst), tt.wantNext)
				step, user := split(tt.wantNext)
				x.complete(inst, step, user, nil)
				require.Equal(t, flows.InstanceApproved, x.status(inst))
				x.checkInvariants(inst)
			})
		}
	})
}

func TestSupplierOnboarding(t *testing.T) {
	t.Parallel()
	form := func(volume string) map[string]any {
		return map[string]any{"supplier_name": "某纸业", "category": "包材", "license": "https://files.example.com/l.png",
			"contact": "李经理", "bank_account": "6222020200112233445", "annual_volume": volume}
	}
	onStores(t, func(t *testing.T, s flows.Store) {
		t.Run("managers one after another", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("supplier_onboarding", "u_jiang", form("500000"))
			x.complete(inst, "qualification", "u_wei", map[string]any{"qualified": true, "score": 80})
			require.Equal(t, []string{"managers:u_wei"}, x.open(inst), "completing a task is not approving: no auto-skip")
			require.Equal(t, []string{"managers:u_wang"}, x.withStatus(inst, flows.TaskWaiting))
			x.approve(inst, "managers", "u_wei")
			x.approve(inst, "managers", "u_wang")
			x.complete(inst, "finance_setup", "u_sun", nil)
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			x.checkInvariants(inst)
		})
		t.Run("a large supplier goes to the 60% committee", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("supplier_onboarding", "u_jiang", form("1200000"))
			x.complete(inst, "qualification", "u_jiang", map[string]any{"qualified": true, "score": 90})
			require.Equal(t, []string{"committee:u_wang", "committee:u_wei", "committee:u_zhao"}, x.open(inst),
				"the applicant's own seat is auto-approved")
			x.approve(inst, "committee", "u_wang")
			require.Len(t, x.open(inst), 2, "2 of 4 is below 60%")
			x.approve(inst, "committee", "u_zhao")
			require.Equal(t, []string{"finance_setup:u_qian", "finance_setup:u_sun", "finance_setup:u_zhao"}, x.open(inst))
			x.checkInvariants(inst)
		})
		t.Run("an unqualified supplier ends with a notice", func(t *testing.T) {
			t.Parallel()
			x := newFx(t, s)
			inst := x.start("supplier_onboarding", "u_jiang", form("10"))
			x.complete(inst, "qualification", "u_wei", map[string]any{"qualified": false, "score": 10})
			require.Equal(t, flows.InstanceApproved, x.status(inst))
			require.Equal(t, []string{"start", "assign:qualification", "complete", "pass:qualification", "route:decide",
				"notify:rejected_notice", "end"}, x.actions(inst))
			require.ElementsMatch(t, []string{"cc:u_jiang", "cc:u_wei"}, x.intentsOf(inst, flows.NotifyCC))
		})
	})
}

func TestAlertFlowsAreNotStartedByHand(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, s flows.Store) {
		x := newFx(t, s)
		_, err := x.e.Start(t.Context(), flows.StartRequest{Event: "stock.oversell", FlowID: "oversell_alert",
			Form: map[string]any{"sku": "SKU-1", "warehouse": "hz-1", "platform": "jd", "oversold_qty": 3}})
		require.ErrorIs(t, err, flows.ErrNotApplicable, "an alert flow opens from its events, so repeats find it")
		require.ErrorContains(t, err, "stock.oversell")
	})
}

package bot_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cardflow/bot"
	"cardflow/flows"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden with the cards rendered now")

const goldenDir = "testdata/golden"

// goldens pins cards to testdata/golden/<name>.json and, once every
// scenario ran, checks that no golden file is left that none pins.
type goldens struct {
	mu     sync.Mutex
	pinned []string
}

func newGoldens(t *testing.T) *goldens {
	g := &goldens{}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
		require.NoError(t, err)
		var names []string
		for _, f := range files {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
		slices.Sort(g.pinned)
		slices.Sort(names)
		require.Equal(t, g.pinned, names, "every golden file is pinned by a scenario, and every scenario's card has one")
	})
	return g
}

func (g *goldens) pin(t *testing.T, name string, c bot.Card) {
	t.Helper()
	g.mu.Lock()
	require.NotContains(t, g.pinned, name, "golden %s pinned twice", name)
	g.pinned = append(g.pinned, name)
	g.mu.Unlock()
	got, err := json.MarshalIndent(c, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join(goldenDir, name+".json")
	if *update {
		require.NoError(t, os.MkdirAll(goldenDir, 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./bot -run TestGoldenCards -update to write it")
	require.Equal(t, string(want), string(got), "card %s (run with -update to accept)", name)
}

// TestGoldenCards drives real flows and pins the card of every kind the
// engine's intents are shown as, in Chinese and some in English.
func TestGoldenCards(t *testing.T) {
	t.Parallel()
	g := newGoldens(t)
	scenarios := []struct {
		name string
		org  func(*flows.Org)
		run  func(t *testing.T, w *world, g *goldens)
	}{
		{name: "order approved and packed", run: orderApproved},
		{name: "transfer then rejection", run: transferThenReject},
		{name: "return to applicant", run: returnToApplicant},
		{name: "withdraw and cancel", run: withdrawAndCancel},
		{name: "reminder and escalation", org: financeLeadApartFromFinance, run: overdueAndEscalated},
		{name: "oversell alert", run: oversellAlert},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			var w *world
			if sc.org != nil {
				w = newWorld(t, sc.org)
			} else {
				w = newWorld(t)
			}
			sc.run(t, w, g)
		})
	}
}

// orderApproved: ¥6,800 through finance (或签 of three), the sales
// director (and his leave proxy), the warehouse, and a copy to customer
// service, who comments.
func orderApproved(t *testing.T, w *world, g *goldens) {
	inst := w.order("TM-1001", "6800.00")
	assigned := w.intent(inst, flows.NotifyTaskAssigned, "u_qian")
	g.pin(t, "task_approval", w.card(w.reader("u_qian"), assigned))
	g.pin(t, "task_approval.en", w.card(w.english("u_qian"), assigned))

	w.advance(5 * time.Minute)
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_qian", TaskID: w.task(inst, "u_qian"), Comment: "金额核对无误"})
	g.pin(t, "task_approved", w.taskCard(w.reader("u_qian"), w.task(inst, "u_qian")))
	closed := w.intent(inst, flows.NotifyTaskClosed, "u_sun")
	g.pin(t, "task_closed_cosigner", w.card(w.reader("u_sun"), closed))
	g.pin(t, "task_closed_cosigner.en", w.card(w.english("u_sun"), closed))
	g.pin(t, "instance_running", w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyDecision, "u_chen")))
	g.pin(t, "task_director", w.card(w.reader("u_zhou"), w.intent(inst, flows.NotifyTaskAssigned, "u_zhou")))
	proxy := w.intent(inst, flows.NotifyTaskAssigned, "u_wang")
	require.Equal(t, "u_zhou", proxy.ForUser)
	g.pin(t, "task_proxy", w.card(w.reader("u_wang"), proxy))
	g.pin(t, "instance_admin.en", w.instanceCard(w.reader("u_shen"), inst))

	w.advance(40 * time.Minute)
	w.act(flows.Action{Kind: flows.ActUrge, Actor: "u_chen", InstanceID: inst, Comment: "客户催单，麻烦尽快"})
	g.pin(t, "task_reminder", w.card(w.reader("u_zhou"), w.intent(inst, flows.NotifyReminder, "u_zhou")))

	w.advance(10 * time.Minute)
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_zhou", TaskID: w.task(inst, "u_zhou")})
	g.pin(t, "task_pack", w.card(w.reader("u_feng"), w.intent(inst, flows.NotifyTaskAssigned, "u_feng")))

	w.advance(20 * time.Minute)
	w.act(flows.Action{Kind: flows.ActComplete, Actor: "u_feng", TaskID: w.task(inst, "u_feng"), Comment: "已发顺丰",
		Result: map[string]any{"tracking_no": "SF1234567890", "carrier": "sf"}})
	g.pin(t, "task_done", w.taskCard(w.reader("u_feng"), w.task(inst, "u_feng")))
	finished := w.intent(inst, flows.NotifyFinished, "u_chen")
	g.pin(t, "instance_finished", w.card(w.reader("u_chen"), finished))
	g.pin(t, "instance_finished.en", w.card(w.english("u_chen"), finished))
	g.pin(t, "instance_cc", w.card(w.reader("u_chu"), w.intent(inst, flows.NotifyCC, "u_chu")))

	w.advance(5 * time.Minute)
	w.act(flows.Action{Kind: flows.ActComment, Actor: "u_chu", InstanceID: inst, Comment: "买家已收到发货通知"})
	g.pin(t, "notice_comment", w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyComment, "u_chen")))
}

// transferThenReject: finance hands the order to the GM (转交), the
// director rejects it.
func transferThenReject(t *testing.T, w *world, g *goldens) {
	inst := w.order("TM-1002", "12000.00")
	w.advance(3 * time.Minute)
	old := w.task(inst, "u_qian")
	w.act(flows.Action{Kind: flows.ActTransfer, Actor: "u_qian", TaskID: old, To: "u_wang", Comment: "我休假，请王总处理"})
	g.pin(t, "task_transferred_away", w.taskCard(w.reader("u_qian"), old))
	g.pin(t, "task_transferred", w.card(w.reader("u_wang"), w.intent(inst, flows.NotifyTaskAssigned, "u_wang")))

	w.advance(10 * time.Minute)
	w.act(flows.Action{Kind: flows.ActApprove, Actor: "u_wang", TaskID: w.task(inst, "u_wang")})
	w.advance(10 * time.Minute)
	w.act(flows.Action{Kind: flows.ActReject, Actor: "u_zhou", TaskID: w.task(inst, "u_zhou"), Comment: "低于底价"})
	g.pin(t, "task_rejected", w.taskCard(w.reader("u_zhou"), w.task(inst, "u_zhou")))
	g.pin(t, "instance_rejected", w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyFinished, "u_chen")))
}

// returnToApplicant: finance returns the order to the applicant (退回).
func returnToApplicant(t *testing.T, w *world, g *goldens) {
	inst := w.order("TM-1003", "800.00")
	w.advance(8 * time.Minute)
	w.act(flows.Action{Kind: flows.ActReturn, Actor: "u_sun", TaskID: w.task(inst, "u_sun"), To: flows.ReturnToApplicant,
		Comment: "缺少收货地址"})
	g.pin(t, "task_returned", w.taskCard(w.reader("u_sun"), w.task(inst, "u_sun")))
	g.pin(t, "task_resubmit", w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyTaskAssigned, "u_chen")))
	g.pin(t, "instance_returned", w.card(w.reader("u_chen"), w.intent(inst, flows.NotifyReturned, "u_chen")))
}

// withdrawAndCancel: the applicant withdraws one order (撤回), the
// administrator cancels another (作废).
func withdrawAndCancel(t *testing.T, w *world, g *goldens) {
	first := w.order("TM-1004", "500.00")
	second := w.order("TM-1005", "300.00")
	w.advance(2 * time.Minute)
	w.act(flows.Action{Kind: flows.ActWithdraw, Actor: "u_chen", InstanceID: first, Comment: "客户取消了订单"})
	g.pin(t, "task_withdrawn", w.card(w.reader("u_qian"), w.intent(first, flows.NotifyWithdrawn, "u_qian")))
	w.act(flows.Action{Kind: flows.ActCancel, Actor: "u_shen", InstanceID: second, Comment: "重复下单"})
	g.pin(t, "instance_cancelled", w.card(w.reader("u_chen"), w.intent(second, flows.NotifyCancelled, "u_chen")))
}

// financeLeadApartFromFinance takes the finance role from the finance
// director, so that an escalation to her hands the step to someone new.
func financeLeadApartFromFinance(o *flows.Org) {
	for i, u := range o.Users {
		if u.ID == "u_zhao" {
			o.Users[i].Roles = []string{"finance_lead"}
		}
	}
}

// overdueAndEscalated: finance lets the SLA pass; the system reminds them,
// then hands the step to the finance director.
func overdueAndEscalated(t *testing.T, w *world, g *goldens) {
	inst := w.order("TM-1006", "500.00")
	w.advance(2*time.Hour + 30*time.Minute)
	require.Positive(t, w.fire())
	g.pin(t, "task_overdue", w.card(w.reader("u_qian"), w.intent(inst, flows.NotifyReminder, "u_qian")))
	w.advance(30 * time.Minute)
	require.Positive(t, w.fire())
	escalated := w.intent(inst, flows.NotifyTaskAssigned, "u_zhao")
	require.Equal(t, flows.CauseEscalate, escalated.Cause)
	g.pin(t, "task_escalated", w.card(w.reader("u_zhao"), escalated))
	g.pin(t, "task_escalated_away", w.card(w.reader("u_qian"), w.intent(inst, flows.NotifyTaskClosed, "u_qian")))
}

// oversellAlert: an oversell pages the warehouse on call, is snoozed,
// escalates to the GM, is acknowledged and resolved.
func oversellAlert(t *testing.T, w *world, g *goldens) {
	inst := w.alert("SKU-1")
	w.advance(30 * time.Second)
	require.Equal(t, inst, w.alert("SKU-1"), "a repeat is counted into the open alert")
	w.advance(10 * time.Second)
	require.Equal(t, inst, w.alert("SKU-2"), "the same warehouse joins the group")
	w.advance(time.Minute)
	require.Positive(t, w.fire())
	fired := w.intent(inst, flows.NotifyAlertFired, "u_feng")
	g.pin(t, "alert_fired", w.card(w.reader("u_feng"), fired))
	g.pin(t, "alert_fired.en", w.card(w.english("u_feng"), fired))

	w.advance(2 * time.Minute)
	w.act(flows.Action{Kind: flows.ActSnooze, Actor: "u_zheng", TaskID: w.task(inst, "u_zheng"), Until: w.clock.Now().Add(time.Hour)})
	g.pin(t, "alert_snoozed", w.taskCard(w.reader("u_zheng"), w.task(inst, "u_zheng")))

	// The snooze ends after an hour; the escalation levels that fell due
	// meanwhile follow, the last paging the GM.
	for range 4 {
		w.advance(30 * time.Minute)
		w.fire()
	}
	g.pin(t, "alert_escalated", w.card(w.reader("u_wang"), w.intent(inst, flows.NotifyAlertEscalated, "u_wang")))

	w.advance(3 * time.Minute)
	w.act(flows.Action{Kind: flows.ActAcknowledge, Actor: "u_feng", TaskID: w.task(inst, "u_feng")})
	g.pin(t, "alert_acknowledged", w.card(w.reader("u_zheng"), w.intent(inst, flows.NotifyAlertAcknowledged, "u_zheng")))

	w.advance(10 * time.Minute)
	w.act(flows.Action{Kind: flows.ActResolve, Actor: "u_feng", TaskID: w.task(inst, "u_feng"), Comment: "已补货 20 件"})
	g.pin(t, "alert_resolved", w.card(w.reader("u_zheng"), w.intent(inst, flows.NotifyAlertResolved, "u_zheng")))
}

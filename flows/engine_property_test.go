package flows_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"cardflow/flows"
	"cardflow/internal/testclock"
)

// TestEngineProperties drives the example flows with random operations by
// random users (allowed or not), replayed idempotency keys and double
// clicks, and checks after every step that no instance is in an impossible
// state (see checker.invariants). Both stores run rapid's default number
// of checks (raise it with -rapid.checks=N); PostgreSQL, and both under
// -race, with shorter sequences to keep the package's tests quick.
func TestEngineProperties(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		open      func(t testing.TB) flows.Store
		maxSteps  int
		raceSteps int
	}{
		{name: "sqlite", open: openSQLite, maxSteps: 40, raceSteps: 12},
		{name: "postgres", open: openPostgres, maxSteps: 12, raceSteps: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.open(t)
			seed(t, s)
			c := testclock.New(t0)
			// Two engines on one store act like two server processes: each
			// one's instance cache falls behind the other's changes.
			w := &world{s: s, clock: c, flows: map[string]*flows.Flow{}, engines: []*flows.Engine{
				flows.NewEngine(s, flows.WithClock(c.Now)), flows.NewEngine(s, flows.WithClock(c.Now))}}
			for _, id := range propFlows {
				f, err := w.engines[0].Flow(t.Context(), id, 0)
				require.NoError(t, err)
				w.flows[id] = f
			}
			steps := tt.maxSteps
			if raceEnabled {
				steps = tt.raceSteps
			}
			rapid.Check(t, func(rt *rapid.T) {
				w.run(t, rt, steps)
			})
		})
	}
}

// propFlows are the example flows the property test starts; the oversell
// alert belongs to the alert worker.
var propFlows = []string{"order_fulfilment", "purchase_request", "campaign_launch", "return_exchange", "supplier_onboarding"}

// propUsers are the example org's users, someone unknown and the system.
var propUsers = []string{"u_wang", "u_zhao", "u_qian", "u_sun", "u_zhou", "u_wu", "u_zheng", "u_feng",
	"u_chen", "u_chu", "u_wei", "u_jiang", "u_shen", "u_nobody", flows.SystemActor}

// world is the store and engine all checks of one backend share; each
// check starts its own instances.
type world struct {
	s       flows.Store
	engines []*flows.Engine
	clock   *testclock.Clock
	flows   map[string]*flows.Flow
	keyN    atomic.Int64
}

// engine draws the engine (the process) a request goes to.
func (w *world) engine(rt *rapid.T) *flows.Engine {
	return rapid.SampledFrom(w.engines).Draw(rt, "engine")
}

// request is one operation as sent, so that it can be sent again.
type request struct {
	op, target, key string
	send            func() (flows.Result, error)
}

// model is what one check remembers between steps.
type model struct {
	insts   []string
	decided map[string]flows.Task // task id → the task as first seen decided
	answers map[string]keyUse     // idempotency key → its first answer
	keys    []string
	outbox  map[string]int64 // outbox key → seq
	last    *request
}

// keyUse is a keyed request and the answer it got when it was applied.
type keyUse struct {
	req   request
	first flows.Result
}

func (w *world) run(outer *testing.T, rt *rapid.T, maxSteps int) {
	m := &model{decided: map[string]flows.Task{}, answers: map[string]keyUse{}, outbox: map[string]int64{}}
	c := &checker{t: rt, ctx: outer.Context(), s: w.s, m: m}
	defer c.markSent()
	w.start(rt, m, c)
	for range rapid.IntRange(1, maxSteps).Draw(rt, "steps") {
		switch rapid.SampledFrom([]string{"start", "task", "task", "task", "task", "task", "instance", "instance",
			"double", "concurrent", "replay", "clock"}).Draw(rt, "kind") {
		case "start":
			w.start(rt, m, c)
		case "task":
			_, _ = w.send(rt, m, c, w.taskOp(rt, m))
		case "instance":
			_, _ = w.send(rt, m, c, w.instanceOp(rt, m))
		case "double":
			if m.last != nil {
				_, _ = w.send(rt, m, c, *m.last)
			}
		case "concurrent":
			w.concurrent(rt, m, c)
		case "replay":
			w.replay(rt, m, c)
		case "clock":
			w.clock.Advance(time.Duration(rapid.IntRange(1, 30).Draw(rt, "hours")) * time.Hour)
		}
	}
}

// key returns a fresh idempotency key, or "" (no key) half of the time.
func (w *world) key(rt *rapid.T) string {
	if rapid.Bool().Draw(rt, "keyed") {
		return fmt.Sprintf("prop:%d", w.keyN.Add(1))
	}
	return ""
}

// start starts an instance of a random flow with a random valid form;
// every threshold of the example flows is drawn on both sides.
func (w *world) start(rt *rapid.T, m *model, c *checker) {
	id := rapid.SampledFrom(propFlows).Draw(rt, "flow")
	applicant := rapid.SampledFrom(propUsers).Draw(rt, "applicant")
	req := flows.StartRequest{Actor: applicant, Key: w.key(rt), FlowID: id, Form: propForm(rt, id)}
	e := w.engine(rt)
	_, _ = w.send(rt, m, c, request{op: "start", target: id, key: req.Key, send: func() (flows.Result, error) {
		return e.Start(c.ctx, req)
	}})
}

func propForm(rt *rapid.T, flow string) map[string]any {
	pick := func(label string, vs ...string) string { return rapid.SampledFrom(vs).Draw(rt, label) }
	switch flow {
	case "order_fulfilment":
		f := orderForm(pick("amount", "0", "4999.99", "5000", "5000.00", "5000.01", "9000"))
		return f
	case "purchase_request":
		return purchaseForm(pick("amount", "0.01", "49999.99", "50000", "50000.01"))
	case "campaign_launch":
		return map[string]any{"campaign": "双11", "platform": "tmall", "starts_on": "2025-11-01", "ends_on": "2025-11-11",
			"budget": "200000", "plan": "https://files.example.com/plan.pdf", "presale": rapid.Bool().Draw(rt, "presale"),
			"expected_orders": rapid.SampledFrom([]int{0, 1000, 1001}).Draw(rt, "expected_orders")}
	case "return_exchange":
		return map[string]any{"order_no": "JD-9", "kind": pick("kind", "退货", "换货"), "reason": "破损", "refund_amount": "99.90"}
	default: // supplier_onboarding
		return map[string]any{"supplier_name": "某纸业", "category": "包材", "license": "https://files.example.com/l.png",
			"contact": "李经理", "bank_account": "6222020200112233445", "annual_volume": pick("volume", "1000000", "1000000.01")}
	}
}

// propResult returns a result form for a task step: valid, drawn from its
// fields (both sides of score < 60), or now and then empty.
func propResult(rt *rapid.T, f *flows.Flow, stepID string) map[string]any {
	s := f.Step(stepID)
	if s == nil || rapid.IntRange(0, 9).Draw(rt, "empty result") == 0 {
		return nil
	}
	out := map[string]any{}
	for _, fd := range s.ResultForm {
		switch fd.Type {
		case flows.FieldBool:
			out[fd.Key] = rapid.Bool().Draw(rt, fd.Key)
		case flows.FieldNumber:
			out[fd.Key] = rapid.SampledFrom([]int{0, 59, 60, 100}).Draw(rt, fd.Key)
		case flows.FieldMoney:
			out[fd.Key] = "100"
		case flows.FieldDate:
			out[fd.Key] = "2025-12-01"
		case flows.FieldEnum:
			out[fd.Key] = rapid.SampledFrom(fd.Options).Draw(rt, fd.Key)
		default:
			out[fd.Key] = "X-1"
		}
	}
	return out
}

// task draws a task of an instance of the check, any status, or an id no
// task has; and an actor, its assignee more often than not.
func (w *world) task(rt *rapid.T, m *model) (flows.Task, string, string) {
	if len(m.insts) == 0 {
		return flows.Task{ID: "none.t0001"}, "", rapid.SampledFrom(propUsers).Draw(rt, "actor")
	}
	inst := rapid.SampledFrom(m.insts).Draw(rt, "instance")
	tasks, err := w.s.Tasks(rt.Context(), flows.TaskFilter{InstanceID: inst, Limit: 1000})
	require.NoError(rt, err)
	t := flows.Task{ID: inst + ".t9999", InstanceID: inst}
	if len(tasks) > 0 && rapid.IntRange(0, 19).Draw(rt, "bogus task") > 0 {
		t = rapid.SampledFrom(tasks).Draw(rt, "task")
	}
	actor := rapid.SampledFrom(propUsers).Draw(rt, "actor")
	if t.Assignee != "" && rapid.IntRange(0, 9).Draw(rt, "assignee acts") < 7 {
		actor = t.Assignee
	}
	return t, inst, actor
}

func (w *world) taskOp(rt *rapid.T, m *model) request {
	t, inst, actor := w.task(rt, m)
	key, e := w.key(rt), w.engine(rt)
	comment := rapid.SampledFrom([]string{"", "ok", "ok"}).Draw(rt, "comment")
	to := rapid.SampledFrom(propUsers).Draw(rt, "to")
	ctx := rt.Context()
	req := request{op: rapid.SampledFrom([]string{"approve", "approve", "reject", "complete", "complete", "return",
		"transfer", "delegate", "add_signer", "remove_signer"}).Draw(rt, "op"), target: t.ID, key: key}
	decide := flows.DecideRequest{Actor: actor, Key: key, TaskID: t.ID, Comment: comment}
	hand := flows.HandOverRequest{Actor: actor, Key: key, TaskID: t.ID, To: to, Comment: comment}
	switch req.op {
	case "approve":
		req.send = func() (flows.Result, error) { return e.Approve(ctx, decide) }
	case "reject":
		req.send = func() (flows.Result, error) { return e.Reject(ctx, decide) }
	case "complete":
		var result map[string]any
		if f := w.flowOf(rt, inst); f != nil {
			result = propResult(rt, f, t.StepID)
		}
		c := flows.CompleteRequest{Actor: actor, Key: key, TaskID: t.ID, Comment: comment, Result: result}
		req.send = func() (flows.Result, error) { return e.Complete(ctx, c) }
	case "return":
		r := flows.ReturnRequest{Actor: actor, Key: key, TaskID: t.ID, Comment: comment,
			To: rapid.SampledFrom([]string{flows.ReturnToApplicant, flows.ReturnToApplicant, flows.ReturnToPrevious, flows.ReturnToPrevious,
				"manager", "cs_review", "qualification", "nowhere"}).Draw(rt, "return to")}
		req.send = func() (flows.Result, error) { return e.Return(ctx, r) }
	case "transfer":
		req.send = func() (flows.Result, error) { return e.Transfer(ctx, hand) }
	case "delegate":
		req.send = func() (flows.Result, error) { return e.Delegate(ctx, hand) }
	case "add_signer":
		a := flows.AddSignerRequest{Actor: actor, Key: key, TaskID: t.ID, Comment: comment,
			Users:    rapid.SliceOfN(rapid.SampledFrom(propUsers), 0, 2).Draw(rt, "signers"),
			Position: rapid.SampledFrom([]flows.SignerPosition{flows.SignBefore, flows.SignAfter, "middle"}).Draw(rt, "position")}
		req.send = func() (flows.Result, error) { return e.AddSigner(ctx, a) }
	default:
		if rapid.Bool().Draw(rt, "admin removes") {
			actor = "u_shen" // the example org's administrator
		}
		r := flows.RemoveSignerRequest{Actor: actor, Key: key, TaskID: t.ID, Comment: comment}
		req.send = func() (flows.Result, error) { return e.RemoveSigner(ctx, r) }
	}
	return req
}

func (w *world) flowOf(rt *rapid.T, inst string) *flows.Flow {
	if inst == "" {
		return nil
	}
	i, err := w.s.Instance(rt.Context(), inst)
	require.NoError(rt, err)
	return w.flows[i.FlowID]
}

func (w *world) instanceOp(rt *rapid.T, m *model) request {
	inst := "none"
	if len(m.insts) > 0 {
		inst = rapid.SampledFrom(m.insts).Draw(rt, "instance")
	}
	actor := rapid.SampledFrom(propUsers).Draw(rt, "actor")
	if i, err := w.s.Instance(rt.Context(), inst); err == nil && rapid.Bool().Draw(rt, "applicant acts") {
		actor = i.Applicant
	}
	key, e := w.key(rt), w.engine(rt)
	comment := rapid.SampledFrom([]string{"", "ok"}).Draw(rt, "comment")
	ctx := rt.Context()
	req := request{op: rapid.SampledFrom([]string{"withdraw", "cancel", "comment", "urge", "urge", "resubmit"}).Draw(rt, "op"), target: inst, key: key}
	ir := flows.InstanceRequest{Actor: actor, Key: key, InstanceID: inst, Comment: comment}
	switch req.op {
	case "withdraw":
		req.send = func() (flows.Result, error) { return e.Withdraw(ctx, ir) }
	case "cancel":
		req.send = func() (flows.Result, error) { return e.Cancel(ctx, ir) }
	case "comment":
		c := flows.CommentRequest{Actor: actor, Key: key, InstanceID: inst, Text: comment}
		req.send = func() (flows.Result, error) { return e.Comment(ctx, c) }
	case "urge":
		u := flows.UrgeRequest{Actor: actor, Key: key, InstanceID: inst, Comment: comment}
		req.send = func() (flows.Result, error) { return e.Urge(ctx, u) }
	default:
		r := flows.ResubmitRequest{Actor: actor, Key: key, InstanceID: inst, Comment: comment}
		req.send = func() (flows.Result, error) { return e.Resubmit(ctx, r) }
	}
	return req
}
